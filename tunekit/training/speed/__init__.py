"""The default speed path: packing, length buckets, fast dropout, used embedding rows, folded clipping, precision, attention."""
