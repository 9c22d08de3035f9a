const fs=require('fs');
const p=JSON.parse(fs.readFileSync(process.argv[2]));
const nodes=new Map(p.nodes.map(n=>[n.id,n]));
const self=new Map();
const dt=p.timeDeltas; let total=0;
for(let i=0;i<p.samples.length;i++){const id=p.samples[i]; self.set(id,(self.get(id)||0)+(dt[i]||0)); total+=dt[i]||0;}
// inclusive by function key
const parent=new Map(); for(const n of p.nodes) for(const c of (n.children||[])) parent.set(c,n.id);
const incl=new Map(); const selfBy=new Map();
for(const [id,t] of self){ const seen=new Set(); let cur=id; const n0=nodes.get(id); const k0=`${n0.callFrame.functionName||'(anon)'} ${n0.callFrame.url.split('/').slice(-3).join('/')}:${n0.callFrame.lineNumber}`; selfBy.set(k0,(selfBy.get(k0)||0)+t);
 while(cur!==undefined){const n=nodes.get(cur); const k=`${n.callFrame.functionName||'(anon)'} ${n.callFrame.url.split('/').slice(-3).join('/')}:${n.callFrame.lineNumber}`; if(!seen.has(k)){seen.add(k); incl.set(k,(incl.get(k)||0)+t);} cur=parent.get(cur);} }
console.log('total ms', (total/1000).toFixed(0));
console.log('--- self'); [...selfBy].sort((a,b)=>b[1]-a[1]).slice(0,25).forEach(([k,t])=>console.log((t/1000).toFixed(0).padStart(6),k));
console.log('--- inclusive'); [...incl].sort((a,b)=>b[1]-a[1]).slice(0,60).forEach(([k,t])=>console.log((t/1000).toFixed(0).padStart(6),k));
