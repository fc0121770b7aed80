from tests.live.conftest import api, features, server, sklearn_model

__all__ = ["api", "features", "server", "sklearn_model"]
