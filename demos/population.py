"""A synthetic but realistic adult population of Region Hovedstaden, and how its people
answer an invitation.

Nothing here is real: names are "Demo Borger <n>", addresses are on "Demovej", e-mail
addresses end in ``example.invalid`` and the CPR-like keys are a birth date followed by a
serial counted per birth date from 9000 up (so they look like CPR numbers and fit the
importer's and Digital Post's checks, but every one is made up). The mix follows the
region's rough shape: municipality sizes, the adult age pyramid, sex, education by age
(the young and the capital more often have a higher education), a few percent exempt from
Digital Post (far more among the oldest), and a hidden civic engagement that, with age and
education, drives who answers an invitation.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

# Adults per municipality, in thousands (rounded figures of the region's 29 municipalities;
# only the proportions matter).
MUNICIPALITY_WEIGHTS = {
    101: 540, 147: 87, 151: 41, 153: 30, 155: 11, 157: 57, 159: 55, 161: 19, 163: 23,
    165: 21, 167: 42, 169: 44, 173: 44, 175: 32, 183: 17, 185: 34, 187: 12, 190: 31,
    201: 19, 210: 32, 217: 50, 219: 40, 223: 19, 230: 43, 240: 33, 250: 36, 260: 25,
    270: 33, 400: 32,
}
# Areas used as a quota feature: 29 municipalities are too fine for 36 seats.
AREAS = {
    "København og Frederiksberg": (101, 147),
    "Københavns omegn": (151, 153, 155, 157, 159, 161, 163, 165, 167, 169, 173, 175, 183,
                         185, 187),
    "Nordsjælland og Bornholm": (190, 201, 210, 217, 219, 223, 230, 240, 250, 260, 270, 400),
}
AREA_OF = {code: area for area, codes in AREAS.items() for code in codes}

AGE_BANDS = ("18-29", "30-44", "45-59", "60-74", "75+")
AGE_SPAN = {"18-29": (18, 29), "30-44": (30, 44), "45-59": (45, 59), "60-74": (60, 74),
            "75+": (75, 95)}
AGE_SHARE = (0.22, 0.26, 0.24, 0.18, 0.10)
EDUCATION = ("grundskole", "erhvervsfaglig", "videregaaende")
EDUCATION_LABEL = {"grundskole": {"da": "Grundskole eller gymnasial",
                                  "en": "Primary or upper secondary"},
                   "erhvervsfaglig": {"da": "Erhvervsfaglig", "en": "Vocational"},
                   "videregaaende": {"da": "Videregående", "en": "Higher education"}}
# P(education | age band): older generations have fewer degrees.
EDUCATION_BY_AGE = {"18-29": (0.45, 0.17, 0.38), "30-44": (0.18, 0.27, 0.55),
                    "45-59": (0.22, 0.35, 0.43), "60-74": (0.28, 0.37, 0.35),
                    "75+": (0.45, 0.33, 0.22)}
EXEMPT_BY_AGE = {"18-29": 0.01, "30-44": 0.01, "45-59": 0.02, "60-74": 0.05, "75+": 0.22}
STREETS = ("Demovej", "Prøvegade", "Eksempelallé", "Testvænget", "Syntesevej")


@dataclass
class Population:
    """Column arrays, one entry per person (index = person number)."""

    cpr: list[str]
    name: list[str]
    address: list[str]
    postcode: list[str]
    municipality: np.ndarray
    birth: list[date]
    age_band: list[str]
    sex: list[str]           # "male" / "female", as the registry stores it
    education: list[str]
    exempt: np.ndarray
    language: list[str]
    engagement: np.ndarray   # hidden: nobody's register says this

    def __len__(self) -> int:
        return len(self.cpr)

    def share(self, feature: str) -> dict[str, float]:
        values = self.values(feature)
        uniq, counts = np.unique(values, return_counts=True)
        return {str(v): c / len(values) for v, c in zip(uniq, counts, strict=True)}

    def values(self, feature: str) -> list[str]:
        if feature == "area":
            return [AREA_OF[int(c)] for c in self.municipality]
        return list(getattr(self, feature))


def make_population(n: int, rng: np.random.Generator, today: date) -> Population:
    codes = np.array(list(MUNICIPALITY_WEIGHTS))
    w = np.array(list(MUNICIPALITY_WEIGHTS.values()), dtype=float)
    municipality = rng.choice(codes, size=n, p=w / w.sum())
    bands = rng.choice(len(AGE_BANDS), size=n, p=AGE_SHARE)
    age_band = [AGE_BANDS[b] for b in bands]
    ages = np.array([rng.integers(AGE_SPAN[b][0], AGE_SPAN[b][1] + 1) for b in age_band])
    # Women live longer: more of them among the oldest.
    p_female = np.where(bands == 4, 0.58, np.where(bands == 3, 0.52, 0.495))
    sex = np.where(rng.random(n) < p_female, "female", "male").tolist()
    education: list[str] = []
    capital = np.isin(municipality, AREAS["København og Frederiksberg"])
    for band, cap in zip(age_band, capital, strict=True):
        p = np.array(EDUCATION_BY_AGE[band])
        if cap:
            p = p * np.array([0.85, 0.8, 1.3])
        education.append(EDUCATION[rng.choice(3, p=p / p.sum())])
    exempt = rng.random(n) < np.array([EXEMPT_BY_AGE[b] for b in age_band])
    language = np.where(rng.random(n) < 0.03, "en", "da").tolist()
    engagement = rng.normal(0.0, 1.0, n)
    birth: list[date] = []
    cpr: list[str] = []
    serial: dict[str, int] = {}
    for age in ages:
        d = today - timedelta(days=int(age) * 365 + int(rng.integers(30, 330)))
        birth.append(d)
        stem = d.strftime("%d%m%y")
        serial[stem] = serial.get(stem, 8999) + 1
        cpr.append(f"{stem}{serial[stem]:04d}")
    name = [f"Demo Borger {k:06d}" for k in range(n)]
    address = [f"{STREETS[k % len(STREETS)]} {1 + k % 97}, {1 + k % 4}. th" for k in range(n)]
    postcode = [str(1000 + (int(c) * 37 + k) % 2999) for k, c in enumerate(municipality)]
    return Population(cpr, name, address, postcode, municipality, birth, age_band, sex,
                      education, exempt, language, engagement)


EXTRACT_HEADER = ["CPR", "Navn", "Adresse", "Postnr", "Kommune", "Foedselsdato", "Koen",
                  "Email", "Fritaget_digital_post", "Sprog"]
EXTRACT_MAPPING = {"columns": {"person_key": "CPR", "name": "Navn", "address": "Adresse",
                               "postcode": "Postnr", "municipality_code": "Kommune",
                               "birth_date": "Foedselsdato", "sex": "Koen", "email": "Email",
                               "digital_post_exempt": "Fritaget_digital_post",
                               "language": "Sprog"},
                   "delimiter": ";", "date_format": "%d-%m-%Y"}


def extract_csv(pop: Population) -> bytes:
    """The population as a CPR-register style extract (semicolon separated, dd-mm-yyyy)."""
    out = io.StringIO()
    out.write(";".join(EXTRACT_HEADER) + "\n")
    for k in range(len(pop)):
        out.write(f"{pop.cpr[k]};{pop.name[k]};{pop.address[k]};{pop.postcode[k]};"
                  f"{pop.municipality[k]};{pop.birth[k]:%d-%m-%Y};"
                  f"{'K' if pop.sex[k] == 'female' else 'M'};"
                  f"borger{k:06d}@example.invalid;{'ja' if pop.exempt[k] else 'nej'};"
                  f"{pop.language[k]}\n")
    return out.getvalue().encode("utf-8")


# Who answers: a logistic model on age, education and engagement, centred so that about
# ``target`` of the invited sign up. The coefficients give the bias every assembly sees:
# the old (but not the oldest), the educated and the engaged answer more often.
AGE_EFFECT = {"18-29": -0.55, "30-44": -0.2, "45-59": 0.15, "60-74": 0.45, "75+": -0.1}
EDUCATION_EFFECT = {"grundskole": -0.55, "erhvervsfaglig": -0.15, "videregaaende": 0.45}
ENGAGEMENT_EFFECT = 0.9
LETTER_EFFECT = -0.25  # a paper letter is answered a little less often


def response_probability(pop: Population, people: np.ndarray, by_letter: np.ndarray,
                         target: float) -> np.ndarray:
    score = np.array([AGE_EFFECT[pop.age_band[k]] + EDUCATION_EFFECT[pop.education[k]]
                      for k in people])
    score = score + ENGAGEMENT_EFFECT * pop.engagement[people] + LETTER_EFFECT * by_letter
    # Find the intercept that gives the target response rate on this invited group.
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(score + mid)))) < target:
            lo = mid
        else:
            hi = mid
    return 1 / (1 + np.exp(-(score + lo)))
