"""Which output files a build makes and which it keeps: the one place that decides.

A stage does not make its files itself. It describes each group of them as a Job: the paths,
what they are made of (`inputs`: the objects the template is given, or from which everything it
is given follows), and a function that makes them from those inputs. The engine hashes the
inputs (keys.Keys: every field of every object, and a salt for the generator, theme and
settings), and when every path had that same key in the last build, the files are kept
without being made; otherwise the job's function makes them, given the key and the inputs.
The inputs a key is made of are the very objects the page is made from, so a key cannot miss
what a page shows, and no stage keeps a count or a copy of what its pages depend on.

Heavy jobs (paper pages: most of any site) that must be made are gathered and made at the
end, by forked workers when there are enough of them (workers.forked_map: the order is kept,
so the output is the same as making them in turn).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping

from generator.keys import Keys
from generator.output import OutputFile
from generator.workers import forked_map

PARALLEL_MIN = 1000  # heavy jobs: below this, starting workers costs more than it saves
BATCH = 100  # heavy jobs per task handed to a worker


@dataclass(frozen=True)
class Job:
    """Files made together from the same inputs. `make(key, *inputs)` makes them all; with
    `inputs` None they are made on every build (pages of the whole catalog, like the home
    page). `inputs` may be a function, called when the job is reached: what it needs may
    still be being computed elsewhere (related papers) until then."""

    paths: tuple[str, ...]
    make: Callable[..., Iterable[OutputFile]]
    inputs: tuple | Callable[[], tuple] | None = None
    heavy: bool = False


def count(jobs: Iterable[Job]) -> int:
    """How many files the jobs give (for the progress bar)."""
    return sum(len(job.paths) for job in jobs)


class Engine:
    def __init__(self, keys: Keys, previous: Mapping[str, str]) -> None:
        """`previous`: path -> key of every file of the last build that can be kept."""
        self.keys = keys
        self.previous = previous

    def run(self, jobs: Iterable[Job]) -> Iterator[OutputFile]:
        heavy: list[tuple[Job, str, tuple]] = []
        for job in jobs:
            if job.inputs is None:
                yield from job.make("")
                continue
            inputs = job.inputs() if callable(job.inputs) else job.inputs
            key = self.keys.key(job.paths, inputs)
            if all(self.previous.get(path) == key for path in job.paths):
                yield from (OutputFile(path, None, key) for path in job.paths)
            elif job.heavy:
                heavy.append((job, key, inputs))
            else:
                yield from job.make(key, *inputs)
        batches = [range(start, min(start + BATCH, len(heavy))) for start in range(0, len(heavy), BATCH)]
        for made in forked_map(_make, batches, heavy, enough=len(heavy) >= PARALLEL_MIN):
            yield from made


def _make(heavy: list[tuple[Job, str, tuple]], numbers: range) -> list[OutputFile]:
    """Some heavy jobs (in a worker, which inherited them)."""
    return [file for number in numbers for file in heavy[number][0].make(heavy[number][1], *heavy[number][2])]
