"""Operations scripts: backups, restore and the restore drill (security OPS-01, OPS-02).

They run outside the request path and talk to the database through plain DB-API connections
(sqlite3, psycopg) and the PostgreSQL client tools, so they can point at any database: the
one in the Django settings, or the drill's scratch databases."""
