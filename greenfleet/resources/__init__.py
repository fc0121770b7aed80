"""SageMaker's hosting resources: request validation, names and ARNs, stored documents."""
