"""SEEMiS (the Scottish MIS): scheduled CSV exports dropped in a folder, loaded into ``raw_seemis``."""
