"""Business logic behind every face (REST, SageMaker wire protocol, CLI): dicts in SageMaker's
shapes in, dicts out. Services never see HTTP requests."""
