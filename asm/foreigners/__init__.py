"""Foreign guests: the foreigners' channel of a stay (Law 47/2014 Art. 33; docs/FOREIGNERS.md)."""
