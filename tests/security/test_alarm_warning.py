"""``greenfleet alarm put`` warns when no series has exactly the alarm's dimensions (it would read none)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from greenfleet.cli.main import cli
from greenfleet.client import Client
from tests.client.live import running_server


def test_alarm_put_warns_about_dimensions_no_series_has(tmp_path: Path) -> None:
    with running_server(tmp_path / "home") as server, Client(server.settings.base_url) as client:
        client.put_metric_data(Namespace="Warn", MetricData=[{"MetricName": "Errors", "Value": 1.0, "Dimensions": [
            {"Name": "Service", "Value": "api"}, {"Name": "Host", "Value": "h1"}]}])

        def put() -> tuple[str, str]:
            result = CliRunner().invoke(cli, [
                "alarm", "put", "errors", "--url", server.settings.base_url, "--namespace", "Warn", "--metric",
                "Errors", "--dimension", "Service=api", "--statistic", "Sum", "--period", "60",
                "--evaluation-periods", "1", "--threshold", "0", "--comparison", ">"])
            assert result.exit_code == 0, result.output
            return result.stdout, result.stderr

        out, err = put()
        assert "Saved alarm errors" in out
        assert "warning: no series of Warn:Errors has exactly the dimensions Service=api" in err
        assert "Series seen: Host=h1,Service=api" in err
        client.put_metric_data(Namespace="Warn", MetricData=[{"MetricName": "Errors", "Value": 1.0, "Dimensions": [
            {"Name": "Service", "Value": "api"}]}])
        assert put()[1] == ""
