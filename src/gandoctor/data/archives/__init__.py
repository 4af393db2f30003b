"""Real data in the archives training code reads: NVlabs' dataset ZIPs (zipped) and
rosinality's LMDBs (lmdb_records). Both are read in place, never extracted or written."""
