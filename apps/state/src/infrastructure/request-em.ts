import { RequestContext } from '@mikro-orm/core';
import type { Em } from '@pdr/persistence';

/**
 * The entity manager of the message being handled: the fork the transport's `around` hook created
 * with RequestContext.create. Handlers never use the global EM (identity maps would leak between
 * messages), so a handler called outside a request context fails loudly.
 */
export function requestEm(): Em {
  const em = RequestContext.getEntityManager();
  if (!em) throw new Error('no request context: state handlers must run inside the per-message RequestContext');
  return em as Em;
}
