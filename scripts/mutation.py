"""Mutation testing of the rules with mutmut (docs/mutation-testing.md). Not part of CI.

Run through scripts/mutation, which sets the environment the tests need:

    scripts/mutation                    # every area, then the score per module
    scripts/mutation loyalty referrals  # only these areas
    scripts/mutation --max-children 1   # one mutant at a time (default: one per core)
    scripts/mutation --scores           # print the last scores again, run nothing

Each area is one `mutmut run` (mutmut 3: it copies the project into mutants/, puts a
trampoline in each function of the files it mutates and forks one pytest session per
mutant) scoped to the area's rule files and functions and run against the area's
tests only; mutmut then runs each mutant against the tests of that selection that call
the function it changed. The [tool.mutmut] section of pyproject.toml holds what every
area shares; this script narrows source_paths and the test selection per area.
"""

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.90


@dataclass(frozen=True)
class Module:
    path: str
    # Functions mutated: "name" for a module function, "Class.name" for a method,
    # "Class.*" for every method. Empty: every function of the file.
    functions: tuple[str, ...] = ()

    @property
    def dotted(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")

    def patterns(self) -> list[str]:
        """mutmut mutant-name globs: <module>.x_<function>__mutmut_<n> for a function,
        <module>.xǁ<Class>ǁ<method>__mutmut_<n> for a method."""
        if not self.functions:
            return [f"{self.dotted}.*"]
        patterns = []
        for function in self.functions:
            cls, _, name = function.rpartition(".")
            mangled = f"xǁ{cls}ǁ{name}" if cls else f"x_{name}"
            patterns.append(f"{self.dotted}.{mangled}" + ("" if name == "*" else "__mutmut_*"))
        return patterns

    def selects(self, mutant: str) -> bool:
        return any(fnmatch.fnmatchcase(mutant, p) for p in self.patterns())


@dataclass(frozen=True)
class Area:
    name: str
    modules: tuple[Module, ...]
    tests: tuple[str, ...]


AREAS = (
    Area(
        "loyalty",
        (
            Module("loyalty/tiers.py"),
            Module(
                "loyalty/services.py",
                (
                    "locked_account", "_update_account", "points_for_amount", "tier_bonus",
                    "award_job_points", "points_awarded_for", "reverse_job_points",
                    "voucher_terms", "redeem_reward",
                ),
            ),
        ),
        (
            "tests/loyalty/test_earning.py", "tests/loyalty/test_redeem.py",
            "tests/loyalty/test_constraints.py", "tests/loyalty/test_emails.py",
            "tests/loyalty/test_api.py", "tests/actions/test_amount_rule.py",
        ),
    ),
    Area(
        "consent",
        (
            Module(
                "outbox/consent.py",
                (
                    "unsubscribe_token", "_unsubscribe_token", "customer_for_unsubscribe_token",
                    "consents", "marketing_cap_window", "recent_marketing", "under_marketing_cap",
                    "marketing_capped", "marketable_customers", "update_email_preferences",
                    "unsubscribe_from_marketing",
                ),
            ),
        ),
        (
            "tests/retention/test_consent.py", "tests/outbox/test_as_of_dates.py",
            "tests/portal/test_unsubscribe_page.py", "tests/reminders/test_winback.py",
        ),
    ),
    Area(
        "cron",
        (Module("retention/cron_api.py", ("CronSecret.__call__",)),),
        ("tests/retention/test_cron_api.py",),
    ),
    Area(
        "delivery",
        (
            Module("outbox/ratelimit.py", ("SendRate.*", "_number")),
            Module("outbox/batches.py", ("batch_key_for",)),
        ),
        ("tests/outbox/test_shared_rate.py", "tests/retention/test_delivery.py"),
    ),
    Area(
        "campaigns",
        (
            Module(
                "campaigns/models.py",
                ("campaign_months", "_in_season_order", "Campaign.season_year", "Campaign.covers",
                 "Campaign.clean"),
            ),
            Module("campaigns/selectors.py", ("covering_month", "campaign_for_month")),
        ),
        (
            "tests/campaigns/test_months.py", "tests/campaigns/test_admin.py",
            "tests/campaigns/test_send_seasonal_reminders.py",
        ),
    ),
    Area(
        "reminders",
        (
            Module(
                "reminders/selectors.py",
                ("rebooks", "rebooked_since_completion", "urgency_for", "when_due", "due_services",
                 "churn_stage"),
            ),
            Module(
                "reminders/service_due.py",
                ("due_window", "jobs_in_window", "already_reminded", "customer_wants_reminders",
                 "reminder_targets", "select_targets"),
            ),
            Module("retention/models/jobs.py", ("scheduled_ahead",)),
            Module(
                "reminders/winback.py",
                ("in_cooldown", "inactive_customers", "held_out_recently",
                 "winback_targets"),
            ),
        ),
        (
            "tests/reminders/test_service_due.py", "tests/reminders/test_due_alert.py",
            "tests/reminders/test_winback.py", "tests/metrics/test_churn_stages.py",
            "tests/retention/test_scheduled_ahead.py", "tests/reminders/test_rules.py",
            "tests/experiments/test_assignment.py", "tests/outbox/test_as_of_dates.py",
        ),
    ),
    Area(
        "referrals",
        (
            Module("referrals/guards.py"),
            Module(
                "referrals/services.py",
                ("reward_first_job", "_reward_if_due", "_rewards_this_year", "_block",
                 "reverse_reward_for_job", "_first_completed_job"),
            ),
        ),
        (
            "tests/referrals/test_guards.py", "tests/referrals/test_rewards.py",
            "tests/referrals/test_signup.py", "tests/referrals/test_rules.py",
        ),
    ),
    Area(
        "plans",
        (
            Module(
                "plans/services.py",
                ("visit_price", "first_visit_on_or_after", "next_visit_date", "visit_dates_to_book",
                 "ProviderDays.*", "free_provider", "plan_bonus_points", "award_plan_bonus"),
            ),
            Module("plans/visits.py", ("last_kept_visit", "subscriptions_due")),
        ),
        (
            "tests/plans/test_schedule_plan_visits.py", "tests/plans/test_subscribe.py",
            "tests/plans/test_actions.py", "tests/plans/test_points_and_reminders.py",
        ),
    ),
    Area(
        "experiments",
        (Module("experiments/assign.py"),),
        ("tests/experiments/test_assignment.py", "tests/experiments/test_rules.py"),
    ),
)
AREAS_BY_NAME = {area.name: area for area in AREAS}

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout",
          None: "not checked"}


def run_area(area: Area, max_children: int) -> None:
    """In a process of its own: mutmut's configuration and state are process-wide."""
    from mutmut import configuration

    config = configuration.config()
    config.source_paths = [Path(m.path) for m in area.modules]
    config.resolved_mutated_source_paths = [ROOT / "mutants" / m.path for m in area.modules]
    config.pytest_add_cli_args_test_selection = list(area.tests)
    from mutmut.__main__ import cli

    patterns = [p for m in area.modules for p in m.patterns()]
    cli(["run", "--max-children", str(max_children), *patterns], standalone_mode=False)
    # The next area's run puts the original files back into mutants/, after which
    # `mutmut show` cannot show this area's mutants: keep the survivors' diffs.
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    diffs = []
    for module in area.modules:
        for mutant, status in sorted(module_results(module).items()):
            if status not in ("killed", "timeout"):
                diff = get_diff_for_mutant(mutant, path=Path(module.path))
                diffs.append(f"# {mutant}: {status}\n{diff}\n")
    (ROOT / "mutants" / f"survivors-{area.name}.txt").write_text("\n".join(diffs))


def module_results(module: Module) -> dict[str, str]:
    meta = ROOT / "mutants" / f"{module.path}.meta"
    if not meta.exists():
        return {}
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    return {k: STATUS.get(v, "suspicious") for k, v in codes.items() if module.selects(k)}


def scores(areas) -> list[dict]:
    rows = []
    for area in areas:
        for module in area.modules:
            results = module_results(module)
            counts = {s: list(results.values()).count(s) for s in set(results.values())}
            total = len(results)
            caught = counts.get("killed", 0) + counts.get("timeout", 0)
            rows.append({
                "area": area.name,
                "module": module.path,
                "mutants": total,
                "killed": counts.get("killed", 0),
                "timeout": counts.get("timeout", 0),
                "survived": sorted(k for k, s in results.items() if s == "survived"),
                "noTests": sorted(k for k, s in results.items() if s == "no tests"),
                "other": sorted(f"{k}: {s}" for k, s in results.items()
                                if s not in ("killed", "timeout", "survived", "no tests")),
                "score": round(caught / total, 4) if total else None,
            })
    return rows


def print_scores(rows: list[dict]) -> bool:
    print(f"{'module':30} {'mutants':>7} {'killed':>6} {'timeout':>7} {'survived':>8} "
          f"{'no tests':>8} {'score':>7}")
    ok = True
    for row in rows:
        score = row["score"]
        ok &= score is not None and score >= GOAL and not row["other"]
        shown = "-" if score is None else f"{score:.1%}"
        print(f"{row['module']:30} {row['mutants']:>7} {row['killed']:>6} {row['timeout']:>7} "
              f"{len(row['survived']):>8} {len(row['noTests']):>8} {shown:>7}")
    for row in rows:
        for mutant in row["survived"] + row["noTests"] + row["other"]:
            print(f"  not killed: {mutant}  (.venv/bin/mutmut show {mutant.split(':')[0]})")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("areas", nargs="*", metavar="AREA",
                        help=f"areas to run (default: all): {', '.join(AREAS_BY_NAME)}")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scores", action="store_true", help="print the last scores, run nothing")
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    args = parser.parse_args()
    unknown = sorted(set(args.areas) - set(AREAS_BY_NAME))
    if unknown:
        parser.error(f"unknown area(s) {', '.join(unknown)}; the areas: {', '.join(AREAS_BY_NAME)}")
    os.chdir(ROOT)
    if args.inner:
        run_area(AREAS_BY_NAME[args.inner], args.max_children)
        return 0
    areas = [AREAS_BY_NAME[name] for name in args.areas] or list(AREAS)
    timings = {}
    if not args.scores:
        for area in areas:
            print(f"== {area.name}: {', '.join(m.path for m in area.modules)} against "
                  f"{len(area.tests)} test file(s)", file=sys.stderr, flush=True)
            started = time.monotonic()
            subprocess.run(
                [sys.executable, __file__, "--inner", area.name,
                 "--max-children", str(args.max_children)],
                check=False,
                env={**os.environ, "MUTATION_MAX_CHILDREN": str(args.max_children)},
            )
            timings[area.name] = round(time.monotonic() - started, 1)
            print(f"== {area.name}: {timings[area.name]} s", file=sys.stderr, flush=True)
    rows = scores(areas)
    ok = print_scores(rows)
    if timings:
        load = os.getloadavg()
        summary = {"areas": timings, "total_s": round(sum(timings.values()), 1),
                   "loadavg": [round(x, 2) for x in load], "scores": rows}
        (ROOT / "mutants" / "mutation-scores.json").write_text(json.dumps(summary, indent=2))
        print(f"total {summary['total_s']} s, load average now {load[0]:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
