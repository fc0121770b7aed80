wrk.method = "POST"
wrk.body = "0.1,0.2,0.3,0.4"
wrk.headers["X-Amzn-SageMaker-Content-Type"] = "text/csv"
