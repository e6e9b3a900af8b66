"""Small example systems with hand-counted state spaces."""
from ksecheck.checker.core.catalogue import Config, Family

from ksecheck.model.examples import increment

FAMILIES = [
    Family(
        name="increment",
        doc="threads incrementing a counter without a lock (the lost update)",
        build=lambda consts, variants, options: increment.build(
            consts["threads"], locked=bool(options.get("locked"))),
        configs=[Config("inc2", {"threads": 2}, "two threads, unlocked: the lost update"),
                 Config("inc3", {"threads": 3}, "three threads, unlocked"),
                 Config("inc2-locked", {"threads": 2}, "two threads, atomic increments",
                        {"locked": True})],
        default_config="inc2",
    ),
]
