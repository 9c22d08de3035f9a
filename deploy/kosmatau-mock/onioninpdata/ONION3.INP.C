C
# kosmatau-mock onion input for C: species, then transitions (made up)
  1  492.161  3P1-3P0
  2  809.342  3P2-3P1
