"""The jobs one session remembers, so a share can be matched to the job it was mined on."""

from __future__ import annotations

from athena_pool.jobs.contracts import IssuedJob


class RecentJobs:
    """The last `keep` jobs by id, plus the ids (and heights) of up to `forgotten` older ones.

    A share for a forgotten job is an ordinary race (the miner was still on it when newer jobs arrived)
    and is answered "Block expired"; only an id this session never issued is "Invalid job id", which
    makes xmrig reconnect.
    """

    __slots__ = ("_forgotten", "_forgotten_limit", "_jobs", "_keep")

    def __init__(self, keep: int, forgotten: int) -> None:
        self._keep = keep
        self._forgotten_limit = forgotten
        # Plain dicts keep insertion order, and cost half an OrderedDict: thousands of sessions hold these.
        self._jobs: dict[str, IssuedJob] = {}
        self._forgotten: dict[str, int] = {}

    def remember(self, job: IssuedJob) -> None:
        self._jobs[job.job_id] = job
        while len(self._jobs) > self._keep:
            old_id = next(iter(self._jobs))
            self._forget(old_id, self._jobs.pop(old_id).height)

    def get(self, job_id: str) -> IssuedJob | None:
        return self._jobs.get(job_id)

    def forgotten_height(self, job_id: str) -> int | None:
        """The height of a job this session issued but no longer keeps, else None."""
        return self._forgotten.get(job_id)

    def __len__(self) -> int:
        return len(self._jobs)

    def _forget(self, job_id: str, height: int) -> None:
        self._forgotten[job_id] = height
        while len(self._forgotten) > self._forgotten_limit:
            del self._forgotten[next(iter(self._forgotten))]
