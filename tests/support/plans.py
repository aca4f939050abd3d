"""Reading PostgreSQL's plans in tests: statements whose plan must not depend on the planner's statistics."""

from __future__ import annotations

from typing import Any

PLAN_MODES = ("force_custom_plan", "force_generic_plan")  # psycopg prepares a statement sent five times


def scans_of(plan: Any, table: str) -> list[dict[str, Any]]:
    """Every node of an EXPLAIN (FORMAT JSON) plan that reads `table` (not the ones that write it)."""
    found = []
    if plan.get("Relation Name") == table and plan.get("Node Type") != "ModifyTable":
        found.append(plan)
    for child in plan.get("Plans", []):
        found += scans_of(child, table)
    return found


def plans(driver: Any, sql: str, params: Any) -> dict[str, Any]:
    """The plan of `sql` with `params` (on a psycopg connection) in each plan cache mode, by mode."""
    out = {}
    for mode in PLAN_MODES:
        driver.execute(f"SET plan_cache_mode = {mode}")
        [(plan,)] = driver.execute(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchall()
        out[mode] = plan[0]["Plan"]
    driver.execute("RESET plan_cache_mode")
    return out
