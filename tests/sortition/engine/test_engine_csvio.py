import pytest

from services.sortition.engine import (
    InstanceError,
    Person,
    Quota,
    load_instance,
    load_quotas,
    write_people,
    write_quotas,
    write_remaining,
    write_selected,
)
from services.sortition.engine.csvio import load_people

CASES = [
    # folder, categories, respondents, seats, n, convention, first id, n categories
    ("example_small_20", "categories.csv", "respondents.csv", 20, 200, "category,feature", "0", 2),
    ("example_large_200", "categories.csv", "respondents.csv", 200, 2000, "category,feature", "0",
     2),
    ("geneva_30", "categories.csv", "respondents.csv", 30, 360, "category,feature", "A2224", 7),
    ("newdemocracy_20", "categories.csv", "respondents.csv", 20, 300, "category,name", "p0", 7),
    ("sf_fixture_22", "categories.csv", "respondents.csv", 22, 150, "feature,value", "p0", 4),
]


@pytest.mark.parametrize("folder,cats,resp,seats,n,conv,first_id,ncat", CASES)
def test_loads_every_shared_convention(shared_instances, folder, cats, resp, seats, n, conv,
                                       first_id, ncat):
    d = shared_instances / folder
    quotas, convention = load_quotas(d / cats)
    assert convention == conv
    inst = load_instance(d / cats, d / resp, seats)
    assert len(inst.people) == n
    assert inst.people[0].id == first_id
    assert len({q.feature for q in inst.quotas}) == ncat
    assert all(len(p.features) == ncat for p in inst.people)
    assert not inst.one_per_household


def test_sf_flex_columns(shared_instances):
    quotas, _ = load_quotas(shared_instances / "sf_fixture_22" / "categories.csv")
    female = next(q for q in quotas if q.value == "Female")
    assert (female.min, female.max, female.min_flex, female.max_flex) == (11, 12, 0, 12)


def test_households_from_address_columns(shared_instances):
    d = shared_instances / "newdemocracy_20"
    inst = load_instance(d / "categories-simple.csv",
                         d / "respondents-simple-with-households.csv", 12,
                         household_columns=["primary_address1", "primary_zip"])
    assert inst.one_per_household
    assert len(inst.people) == 29
    sizes = {}
    for p in inst.people:
        sizes[p.household] = sizes.get(p.household, 0) + 1
    assert max(sizes.values()) == 3  # address14 / primary_zip13


def test_explicit_id_column(shared_instances):
    d = shared_instances / "newdemocracy_20"
    inst = load_instance(d / "categories.csv", d / "respondents.csv", 20, id_column="email")
    assert inst.people[0].id == "email0"
    with pytest.raises(InstanceError) as e:
        load_instance(d / "categories.csv", d / "respondents.csv", 20, id_column="nope")
    assert "'nope'" in e.value.field


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_quota_number_names_line_and_column(tmp_path):
    p = write(tmp_path / "q.csv", "feature,value,min,max\ng,m,1,2\ng,f,x,2\n")
    with pytest.raises(InstanceError) as e:
        load_quotas(p)
    assert "line 3" in e.value.field and "'min'" in e.value.field
    assert "q.csv" in e.value.field


def test_bad_quota_header(tmp_path):
    p = write(tmp_path / "q.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(InstanceError) as e:
        load_quotas(p)
    assert "line 1" in e.value.field


def test_min_above_max_and_duplicates(tmp_path):
    with pytest.raises(InstanceError) as e:
        load_quotas(write(tmp_path / "q.csv", "category,name,min,max\ng,m,3,2\n"))
    assert "line 2" in e.value.field and "exceeds" in e.value.reason
    with pytest.raises(InstanceError) as e:
        load_quotas(write(tmp_path / "q2.csv", "category,name,min,max\ng,m,1,2\ng,m,1,2\n"))
    assert "line 3" in e.value.field


def test_bad_respondents(tmp_path):
    q = write(tmp_path / "q.csv", "feature,value,min,max\ngender,m,0,1\ngender,f,0,1\n")
    missing = write(tmp_path / "r1.csv", "id,sex\n1,m\n")
    with pytest.raises(InstanceError) as e:
        load_instance(q, missing, 1)
    assert "'gender'" in e.value.field and "line 1" in e.value.field
    dup = write(tmp_path / "r2.csv", "id,gender\n1,m\n2,f\n1,f\n")
    with pytest.raises(InstanceError) as e:
        load_instance(q, dup, 1)
    assert "line 4" in e.value.field and "duplicate" in e.value.reason
    short = write(tmp_path / "r3.csv", "id,gender\n1,m\n2\n")
    with pytest.raises(InstanceError) as e:
        load_instance(q, short, 1)
    assert "line 3" in e.value.field
    unknown = write(tmp_path / "r4.csv", "id,gender\n1,m\n2,x\n")
    with pytest.raises(InstanceError) as e:
        load_instance(q, unknown, 1)
    assert "line 3" in e.value.field and "'gender'" in e.value.field
    empty = write(tmp_path / "r5.csv", "id,gender\n1,m\n2,\n")
    with pytest.raises(InstanceError) as e:
        load_instance(q, empty, 1)
    assert "line 3" in e.value.field and "empty" in e.value.reason
    with pytest.raises(InstanceError) as e:
        load_instance(q, tmp_path / "nope.csv", 1)
    assert "not found" in e.value.reason


def test_id_detection(tmp_path):
    q = write(tmp_path / "q.csv", "feature,value,min,max\ngender,m,0,1\ngender,f,0,1\n")
    r = write(tmp_path / "r.csv", "name,person_identifier,gender\nann,x1,f\nbob,x2,m\n")
    assert [p.id for p in load_instance(q, r, 1).people] == ["x1", "x2"]
    r2 = write(tmp_path / "r2.csv", "gender\nf\nm\n")
    assert [p.id for p in load_instance(q, r2, 1).people] == ["0", "1"]


@pytest.mark.parametrize("convention", ["feature,value", "category,name", "category,feature"])
def test_quota_round_trip(tmp_path, convention):
    quotas = [Quota("gender", "m", 1, 2), Quota("age", "65+", 0, 3)]
    write_quotas(tmp_path / "q.csv", quotas, convention)
    back, conv = load_quotas(tmp_path / "q.csv")
    assert back == quotas and conv == convention


def test_flex_round_trip(tmp_path):
    quotas = [Quota("gender", "m", 1, 2, 0, 4), Quota("age", "65+", 0, 3)]
    write_quotas(tmp_path / "q.csv", quotas)
    back, _ = load_quotas(tmp_path / "q.csv")
    assert back == quotas


def test_people_selected_remaining(tmp_path):
    q = write(tmp_path / "q.csv", "feature,value,min,max\ngender,m,0,2\ngender,f,0,2\n")
    people = [Person("a", {"gender": "m"}), Person("b", {"gender": "f"}),
              Person("c", {"gender": "f"})]
    write_people(tmp_path / "r.csv", people, household_column="household")
    inst = load_instance(q, tmp_path / "r.csv", 2)
    assert [p.id for p in inst.people] == ["a", "b", "c"]
    write_selected(tmp_path / "sel.csv", inst, [0, 2])
    write_remaining(tmp_path / "rem.csv", inst, [0, 2])
    sel = load_people(tmp_path / "sel.csv", ["gender"])
    rem = load_people(tmp_path / "rem.csv", ["gender"])
    assert [p.id for p in sel] == ["a", "c"] and [p.id for p in rem] == ["b"]
