"""Units of work run one after another reuse the connection returned last (warm SQLite page cache, psycopg's
prepared statements), instead of taking turns on every connection the pool has opened."""
from __future__ import annotations

from store.cases import UnitOfWork
from store.db import make_engine


def test_units_of_work_one_after_another_reuse_the_connection_returned_last(db_url):
    engine = make_engine(db_url)
    try:
        first, second = engine.raw_connection(), engine.raw_connection()  # a busy moment: the pool opens two
        first_dbapi, second_dbapi = first.dbapi_connection, second.dbapi_connection
        first.close()
        second.close()  # returned last

        used = []
        for _ in range(3):
            with UnitOfWork(engine) as uow:
                used.append(uow.dbapi_connection)

        assert used == [second_dbapi] * 3
        assert first_dbapi is not second_dbapi
    finally:
        engine.dispose()
