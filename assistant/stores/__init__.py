"""Index stores behind one interface (base.Store): local files today."""
