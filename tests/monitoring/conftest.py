from tests.live.conftest import features, server, sklearn_model

__all__ = ["features", "server", "sklearn_model"]
