"""Small hand-made instances whose leximin is known in closed form."""
from services.sortition.engine.model import Instance, Person, Quota


def people(spec):
    """spec: list of (count, {feature: value}, household or None)"""
    out = []
    for count, feats, hh in spec:
        for _ in range(count):
            out.append(Person(f"p{len(out)}", dict(feats), hh))
    return out


def two_groups(seats_taken=()):
    # 2 men, 6 women, one seat each: leximin gives men 1/2 and women 1/6
    pool = people([(2, {"gender": "m"}, None), (6, {"gender": "f"}, None)])
    quotas = [Quota("gender", "m", 1, 1), Quota("gender", "f", 1, 1)]
    return Instance(pool, quotas, 2, already_selected=tuple(seats_taken))


def crossed():
    # types A=(m,young)x1, B=(m,old)x3, C=(f,young)x2, D=(f,old)x2, 2 seats, one of each
    # gender and age: panels are A+D or B+C. Leximin: P(A+D)=2/5, so A .4, B .2, C .3, D .2
    pool = people([
        (1, {"gender": "m", "age": "young"}, None),
        (3, {"gender": "m", "age": "old"}, None),
        (2, {"gender": "f", "age": "young"}, None),
        (2, {"gender": "f", "age": "old"}, None),
    ])
    quotas = [Quota("gender", "m", 1, 1), Quota("gender", "f", 1, 1),
              Quota("age", "young", 1, 1), Quota("age", "old", 1, 1)]
    return Instance(pool, quotas, 2)


def households():
    # 5 people, 3 seats, people 0 and 1 share a household: they get 1/2, the rest 2/3
    pool = people([(2, {"all": "x"}, "h1"), (1, {"all": "x"}, "h2"), (1, {"all": "x"}, "h3"),
                   (1, {"all": "x"}, None)])
    return Instance(pool, [Quota("all", "x", 0, 3)], 3, one_per_household=True)
