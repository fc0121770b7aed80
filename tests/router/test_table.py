"""The routing table's weighted choice and the balancer's instance pick."""

from __future__ import annotations

from pathlib import Path
from random import Random

import pytest
from scipy.stats import binomtest

from greenfleet.router.balancer import Outstanding, pick_instance
from greenfleet.router.proxy import Router
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Shadow, Target
from greenfleet.server import Server
from greenfleet.settings import Settings


def target(variant: str, weight: float, *ids: str, strategy: str = "LEAST_OUTSTANDING_REQUESTS") -> Target:
    return Target(variant, "cfg", weight, strategy, tuple(InstanceAddress(i, "127.0.0.1", 1) for i in ids))


def test_weighted_choice_follows_weights() -> None:
    route = EndpointRoute("e", (target("a", 0.7, "a1"), target("b", 0.3, "b1")))
    rng = Random(7)
    picks = [route.choose(rng) for _ in range(20_000)]
    share_a = sum(1 for p in picks if p is not None and p.variant_name == "a")
    assert binomtest(share_a, len(picks), 0.7).pvalue > 0.001


def test_zero_weight_and_empty_variants_get_no_traffic_but_can_be_targeted() -> None:
    route = EndpointRoute("e", (target("a", 1, "a1"), target("b", 0, "b1"), target("c", 5)))
    rng = Random(1)
    assert {route.choose(rng).variant_name for _ in range(200)} == {"a"}  # type: ignore[union-attr]
    chosen = route.choose(rng, "b")
    assert chosen is not None and chosen.variant_name == "b"
    assert route.choose(rng, "c") is None  # exists but no instance ready
    assert route.has_variant("c") and not route.has_variant("zzz")


def test_no_ready_instance_anywhere() -> None:
    assert EndpointRoute("e", (target("a", 1),)).choose(Random(0)) is None


def test_least_outstanding_prefers_idle_instance() -> None:
    outstanding = Outstanding()
    t = target("a", 1, "i1", "i2", "i3")
    outstanding.acquire("i1")
    outstanding.acquire("i2")
    rng = Random(0)
    assert {pick_instance(t, outstanding, rng).instance_id for _ in range(50)} == {"i3"}  # type: ignore[union-attr]
    outstanding.release("i1")
    outstanding.release("i2")
    assert outstanding.counts == {}


def test_random_strategy_spreads_and_exclusion_skips_tried_instances() -> None:
    t = target("a", 1, "i1", "i2", strategy="RANDOM")
    rng = Random(3)
    seen = {pick_instance(t, Outstanding(), rng).instance_id for _ in range(100)}  # type: ignore[union-attr]
    assert seen == {"i1", "i2"}
    assert pick_instance(t, Outstanding(), rng, frozenset({"i1"})).instance_id == "i2"  # type: ignore[union-attr]
    assert pick_instance(t, Outstanding(), rng, frozenset({"i1", "i2"})) is None


def _choices(router: Router, route: EndpointRoute, n: int) -> list[tuple[str, str]]:
    picks = []
    for _ in range(n):
        chosen = route.choose(router.rng)
        assert chosen is not None
        instance = pick_instance(chosen, router.outstanding, router.rng)
        assert instance is not None
        picks.append((chosen.variant_name, instance.instance_id))
    return picks


def test_routers_with_the_same_seed_make_the_same_choices() -> None:
    route = EndpointRoute("e", (target("a", 0.5, "a1", "a2"), target("b", 0.3, "b1", "b2", strategy="RANDOM"),
                                target("c", 0.2, "c1")))
    first, second, other = (Router("0", 1024, 1.0, rng=Random(seed)) for seed in (42, 42, 43))
    picks = _choices(first, route, 500)
    assert len(set(picks)) == 5  # every variant and instance drawn: the sequence is not trivial
    assert _choices(second, route, 500) == picks
    assert _choices(other, route, 500) != picks


def test_the_router_seed_setting_seeds_the_servers_router(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENFLEET_ROUTER_SEED", "42")
    server = Server(Settings(home=tmp_path / "home"))
    try:
        assert server.settings.router_seed == 42
        expected = Random(42)
        assert [server.router.rng.random() for _ in range(5)] == [expected.random() for _ in range(5)]
    finally:
        server.metrics.close()
        server.engine.dispose()


def test_a_shadow_samples_only_its_source_variants_requests_and_only_with_ready_instances() -> None:
    ready = Target("shadow", "c1", 100.0, "LEAST_OUTSTANDING_REQUESTS", (InstanceAddress("s-1", "127.0.0.1", 1),))
    shadow = Shadow(ready, 25.0, "prod")
    assert shadow.wants("prod", 0.0) and shadow.wants("prod", 0.2499)
    assert not shadow.wants("prod", 0.25) and not shadow.wants("other", 0.0)
    assert not Shadow(Target("shadow", "c1", 100.0, "RANDOM", ()), 100.0).wants("prod", 0.0)
    route = EndpointRoute("e", (), (shadow,))
    assert RoutingTable(1, {"e": route}).healthy_counts() == {("e", "shadow", "c1"): 1}
    assert not route.has_variant("shadow")  # TargetVariant names production variants only
