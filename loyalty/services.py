"""Loyalty business rules. (Issue 4 fills these in; the job lifecycle already calls them.)"""

from retention.models import Job


def award_job_points(*, job: Job) -> int:
    """Awards a completed job's points once; returns the points it earned."""
    return 0


def points_awarded_for(*, job: Job) -> int:
    """The points a job earned (base and tier bonus), for repeated completions."""
    return 0


def reverse_job_points(*, job: Job) -> int:
    """Reverses what a job earned when it is cancelled after completion."""
    return 0
