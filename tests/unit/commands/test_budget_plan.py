"""``responsegap budget plan``: the achievable interval, requests and fee, ahead of time."""

from __future__ import annotations

import re

import yaml

from responsegap.cli import main

X_WINDOW_REQUESTS = 450  # mentions, per app and 15 minutes (docs/budgets.md)


def _brands_file(tmp_path, x_profiles: int, youtube_profiles: int = 0, budgets: dict | None = None):
    profiles = [
        {"platform": "x", "handle": f"care{i}", "account_id": str(1000 + i)} for i in range(x_profiles)
    ]
    profiles += [
        {"platform": "youtube", "handle": f"chan{i}", "account_id": f"UC{i}"} for i in range(youtube_profiles)
    ]
    data = {
        "brands": [
            {
                "id": "big",
                "name": "Big",
                "timezone": "UTC",
                "recipients": ["a@example.com"],
                "profiles": profiles,
            }
        ]
    }
    if budgets:
        data["budgets"] = budgets
    path = tmp_path / "brands.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_example_file_fits_its_budgets(capsys):
    assert main(["budget", "plan", "--brands", "infra/brands.example.yaml"]) == 0
    out = capsys.readouterr().out
    assert "x#acmesupport: every 5 min, 288.0 requests/day" in out
    assert out.strip().splitlines()[-1].startswith("plan: ")
    assert "0 slower than configured" in out


def test_five_thousand_profiles_say_ahead_of_time_that_five_minutes_is_unreachable(tmp_path, capsys):
    path = _brands_file(tmp_path, x_profiles=4_900, youtube_profiles=100)
    assert (
        main(["budget", "plan", "--brands", str(path), "--posts-per-day", "100", "--users-per-post", "0"])
        == 0
    )
    out = capsys.readouterr().out
    x_lines = [line for line in out.splitlines() if line.startswith("  x#care")]
    assert len(x_lines) == 4_900
    # 4,900 profiles on one app's mentions budget: even the planner's floor cannot be 5 min.
    assert all("not reachable on this budget" in line for line in x_lines)
    # The requests a day the plan makes on the shared app never exceed what the app allows.
    per_day = sum(
        float(re.search(r", ([\d,.]+) requests/day", line).group(1).replace(",", "")) for line in x_lines
    )
    assert per_day <= X_WINDOW_REQUESTS * 96 * 1.001
    yt = [line for line in out.splitlines() if line.startswith("  youtube#chan")]
    assert len(yt) == 100 and all("not reachable" in line for line in yt)
    # X bills $0.005 a post read: 100 posts a day for a month, per profile.
    assert "$15.22/month" in x_lines[0]
    assert "4900 slower than configured" not in out  # youtube counts too
    assert "5000 slower than configured" in out


def test_brands_file_budget_override_is_followed(tmp_path, capsys):
    bigger = {
        "x:default": {"platform": "x", "limits": {"mentions": {"requests": 100_000, "window_seconds": 900}}}
    }
    path = _brands_file(tmp_path, x_profiles=300, budgets=bigger)
    assert main(["budget", "plan", "--brands", str(path)]) == 0
    out = capsys.readouterr().out
    assert "0 slower than configured" in out, out[-300:]
