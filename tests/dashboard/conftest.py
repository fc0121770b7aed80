from tests.observability_support import clock, make_services, sqlite_engine, sqlite_session_engine  # noqa: F401
