"""The control-plane HTTP faces: native REST API (OpenAPI at /docs) and the one gateway that
puts it and the data plane behind a single base URL."""
