"""AWS wire protocols on the one base URL: CloudWatch's AWS JSON 1.0 and query protocols, gzip request
bodies and SigV4 verification. The routes live in ``greenfleet.api.routes.aws``; these modules hold no
routes, only codecs and checks."""
