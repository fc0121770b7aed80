"""boto3's application-autoscaling client against greenfleet, unchanged: targets, policies (target tracking
with its owned alarms, customized metrics with metric math, step scaling driven by the caller's alarms),
activities, and AWS's errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from greenfleet.server import Server
from tests.aws.test_sagemaker_boto3 import client, create_endpoint

pytestmark = pytest.mark.slow
RESOURCE = "endpoint/scaled/variant/AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
KEY = {"ServiceNamespace": "sagemaker", "ResourceId": RESOURCE, "ScalableDimension": DIMENSION}


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def test_targets_policies_and_errors(server: Server, sklearn_model: Path) -> None:
    aas: Any = client(server, "application-autoscaling")
    sm: Any = client(server, "sagemaker")
    cw: Any = client(server, "cloudwatch")
    create_endpoint(sm, "scaled", sklearn_model, {"AllTraffic": 1.0})

    # bad input: Min > Max, a malformed or unknown resource, a policy on an unregistered target
    with pytest.raises(ClientError) as info:
        aas.register_scalable_target(**KEY, MinCapacity=3, MaxCapacity=2)
    assert _code(info) == "ValidationException" and "cannot be greater" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:  # scale to zero is for asynchronous variants only
        aas.register_scalable_target(**KEY, MinCapacity=0, MaxCapacity=2)
    assert _code(info) == "ValidationException"
    assert "MinCapacity 0 is allowed only for a variant of an asynchronous endpoint" in \
        info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        aas.register_scalable_target(**{**KEY, "ResourceId": "endpoint/scaled"}, MinCapacity=1, MaxCapacity=2)
    assert _code(info) == "ValidationException"
    with pytest.raises(ClientError) as info:
        aas.register_scalable_target(**{**KEY, "ResourceId": "endpoint/nope/variant/AllTraffic"}, MinCapacity=1,
                                     MaxCapacity=2)
    assert _code(info) == "ValidationException" and "does not exist" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        aas.register_scalable_target(**KEY)
    assert _code(info) == "ValidationException"
    with pytest.raises(ClientError) as info:
        aas.put_scaling_policy(**KEY, PolicyName="p", PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration={
                                   "TargetValue": 10.0, "PredefinedMetricSpecification": {
                                       "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
    assert _code(info) == "ObjectNotFoundException"

    arn = aas.register_scalable_target(**KEY, MinCapacity=1, MaxCapacity=4)["ScalableTargetARN"]
    assert arn.startswith("arn:aws:application-autoscaling:us-east-1:")
    aas.register_scalable_target(**KEY, MaxCapacity=5)  # re-registering updates only what is given
    (target,) = aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"], target["ScalableTargetARN"]) == (1, 5, arn)
    assert target["SuspendedState"] == {"DynamicScalingInSuspended": False, "DynamicScalingOutSuspended": False,
                                        "ScheduledScalingSuspended": False}

    tracking = aas.put_scaling_policy(**KEY, PolicyName="invocations", PolicyType="TargetTrackingScaling",
                                      TargetTrackingScalingPolicyConfiguration={
                                          "TargetValue": 70.0, "PredefinedMetricSpecification": {
                                              "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
    assert tracking["PolicyARN"].startswith("arn:aws:autoscaling:us-east-1:") and ":policyName/invocations" in \
        tracking["PolicyARN"]
    names = sorted(a["AlarmName"] for a in tracking["Alarms"])
    assert len(names) == 2 and "-AlarmHigh-" in names[0] and "-AlarmLow-" in names[1]
    alarms = cw.describe_alarms(AlarmNames=names)["MetricAlarms"]
    assert {a["AlarmName"] for a in alarms} == set(names)
    high = next(a for a in alarms if "-AlarmHigh-" in a["AlarmName"])
    assert high["AlarmActions"] == [tracking["PolicyARN"]] and high["MetricName"] == "InvocationsPerInstance"
    assert (high["Threshold"], high["EvaluationPeriods"], high["Period"]) == (70.0, 3, 60)
    assert high["AlarmDescription"].startswith("DO NOT EDIT OR DELETE. For TargetTrackingScaling policy")

    math = aas.put_scaling_policy(**KEY, PolicyName="math", PolicyType="TargetTrackingScaling",
                                  TargetTrackingScalingPolicyConfiguration={
                                      "TargetValue": 0.5, "DisableScaleIn": True, "ScaleOutCooldown": 30,
                                      "CustomizedMetricSpecification": {"Metrics": [
                                          {"Id": "m1", "ReturnData": False, "MetricStat": {"Stat": "Sum", "Metric": {
                                              "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors",
                                              "Dimensions": [{"Name": "EndpointName", "Value": "scaled"},
                                                             {"Name": "VariantName", "Value": "AllTraffic"}]}}},
                                          {"Id": "m2", "ReturnData": False, "MetricStat": {"Stat": "Sum", "Metric": {
                                              "Namespace": "AWS/SageMaker", "MetricName": "Invocations",
                                              "Dimensions": [{"Name": "EndpointName", "Value": "scaled"},
                                                             {"Name": "VariantName", "Value": "AllTraffic"}]}}},
                                          {"Id": "e1", "Expression": "m1 / m2", "ReturnData": True}]}})
    assert len(math["Alarms"]) == 1  # scale-in disabled: no AlarmLow
    (owned,) = cw.describe_alarms(AlarmNames=[math["Alarms"][0]["AlarmName"]])["MetricAlarms"]
    assert [m["Id"] for m in owned["Metrics"]] == ["m1", "m2", "e1"]

    step = aas.put_scaling_policy(**KEY, PolicyName="step", PolicyType="StepScaling",
                                  StepScalingPolicyConfiguration={
                                      "AdjustmentType": "ChangeInCapacity", "Cooldown": 60, "StepAdjustments": [
                                          {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 10.0,
                                           "ScalingAdjustment": 1},
                                          {"MetricIntervalLowerBound": 10.0, "ScalingAdjustment": 2}]})
    assert "Alarms" not in step
    cw.put_metric_alarm(AlarmName="busy", MetricName="Invocations", Namespace="AWS/SageMaker", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=100, ComparisonOperator="GreaterThanThreshold",
                        AlarmActions=[step["PolicyARN"]])
    with pytest.raises(ClientError) as info:
        aas.put_scaling_policy(**KEY, PolicyName="bad", PolicyType="StepScaling", StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
                {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 10.0, "ScalingAdjustment": 1},
                {"MetricIntervalLowerBound": 5.0, "ScalingAdjustment": 2}]})
    assert _code(info) == "ValidationException"
    with pytest.raises(ClientError) as info:
        aas.put_scaling_policy(**KEY, PolicyName="bad", PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration={
                                   "TargetValue": 1.0, "PredefinedMetricSpecification": {
                                       "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    assert _code(info) == "ValidationException"

    policies = aas.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=RESOURCE)["ScalingPolicies"]
    assert [p["PolicyName"] for p in policies] == ["invocations", "math", "step"]
    only = aas.describe_scaling_policies(ServiceNamespace="sagemaker", PolicyNames=["step"])["ScalingPolicies"]
    assert only[0]["StepScalingPolicyConfiguration"]["Cooldown"] == 60
    paged = aas.get_paginator("describe_scaling_policies").paginate(ServiceNamespace="sagemaker",
                                                                     PaginationConfig={"PageSize": 2})
    assert [p["PolicyName"] for page in paged for p in page["ScalingPolicies"]] == ["invocations", "math", "step"]
    assert aas.describe_scaling_activities(ServiceNamespace="sagemaker", ResourceId=RESOURCE)["ScalingActivities"] == []

    # replacing a target-tracking policy replaces its alarms; deleting it deletes them
    again = aas.put_scaling_policy(**KEY, PolicyName="invocations", PolicyType="TargetTrackingScaling",
                                   TargetTrackingScalingPolicyConfiguration={
                                       "TargetValue": 50.0, "PredefinedMetricSpecification": {
                                           "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
    assert again["PolicyARN"] == tracking["PolicyARN"]
    assert cw.describe_alarms(AlarmNames=names)["MetricAlarms"] == []
    aas.delete_scaling_policy(**KEY, PolicyName="invocations")
    assert cw.describe_alarms(AlarmNames=[a["AlarmName"] for a in again["Alarms"]])["MetricAlarms"] == []
    with pytest.raises(ClientError) as info:
        aas.delete_scaling_policy(**KEY, PolicyName="invocations")
    assert _code(info) == "ObjectNotFoundException"

    aas.deregister_scalable_target(**KEY)
    assert aas.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"] == []
    assert cw.describe_alarms(AlarmNames=[math["Alarms"][0]["AlarmName"]])["MetricAlarms"] == []
    with pytest.raises(ClientError) as info:
        aas.deregister_scalable_target(**KEY)
    assert _code(info) == "ObjectNotFoundException"
    with pytest.raises(ClientError) as info:
        aas.describe_scalable_targets(ServiceNamespace="ecs")
    assert _code(info) == "ValidationException"
