"""/healthz, /readyz and /metrics of a real server (pserve, waitress, development.ini), as a load
balancer and Prometheus ask them: a key file taken away makes the node not ready, and says why in the
log only; the metrics token is the file `keys init` (here autocreate) wrote."""
from __future__ import annotations

import json
import time

from tests.e2e.server import Browser


def test_a_real_node_answers_liveness_readiness_and_metrics(running_server):
    client = Browser(running_server.port)
    assert json.loads(client.get("/healthz").body) == {"status": "ok"}
    assert json.loads(client.get("/readyz").body) == {"status": "ready"}
    assert client.request("HEAD", "/readyz").status == 200

    token_file = running_server.directory / "var" / "keys" / "metrics_token"
    token = token_file.read_text().strip()
    assert len(token) >= 32
    assert client.get("/metrics").status == 404
    metrics = client.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
    assert metrics.status == 200 and metrics.headers["Content-Type"].startswith("text/plain")
    assert 'whistle_http_requests_total{route="ready",status="2xx"} 2' in metrics.text
    assert "whistle_ready 1" in metrics.text

    # A key file gone (a mount lost, a botched deployment): not ready, and only the log says why.
    session_key = running_server.directory / "var" / "keys" / "session_key"
    kept = session_key.read_bytes()
    session_key.unlink()
    try:
        refused = client.get("/readyz")
        assert (refused.status, refused.body) == (503, b'{"status": "not ready"}')
        assert json.loads(client.get("/healthz").body) == {"status": "ok"}  # alive all the same
    finally:
        session_key.write_bytes(kept)
    assert client.get("/readyz").status == 200
    deadline = time.monotonic() + 5
    while "] ready" not in running_server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = running_server.log.read_text()
    assert f"not ready: a key file cannot be read: {session_key} (FileNotFoundError)" in log
    assert token not in log
