#!/usr/bin/env python3
"""Synthetic sales-call transcripts with planted benefit effects, for evaluating descriptors (issue 15).

    .venv/bin/python scripts/make_descriptor_calls.py [--out /tmp/pitchlab-eval] [--domain payroll|dental|restaurant|fleet]
                                                      [--calls 72] [--seed N] [--summary FILE]

For each product domain (neither video software nor the demo's Clipcast) it writes, under OUT/<domain>/:

* ``inbox/call_NNN.json``  JSON transcripts that ``pitchlab analyze`` reads: ``{"turns": [{"speaker":
  "<person's name>", "text", "start", "end"}]}``; the rep is named in the outcomes CSV (``rep`` column),
  so speakers are mapped as ``transcript-names``.  A call has a greeting, one or two discovery
  questions with the prospect's answers, two to four pitch turns (a pitch sentence, sometimes with a
  filler sentence such as "Let me share my screen." before or after it), the prospect's reaction to
  each, and a close with the prospect's answer.
* ``outcomes.csv``        ``file,outcome,rep`` for every call.
* ``descriptors.csv``     ``descriptor,example``: one short example line per benefit, never one of the
  generated wordings (what a founder would type before seeing any call).
* ``truth.json``          ``{"generator", "seed", "domain", "product", "benefits": {key: {"name",
  "p_interested", "example", "wordings", "calls", "interested_calls", "rate"}}, "calls": [{"file",
  "rep", "prospect", "outcome", "turns": [{"speaker": "rep"|"prospect", "name", "start_s", "end_s",
  "text", "sentences": [{"text", "kind", "benefit", "wording", "noise"}], "label"}]}], "pitches":
  [{"file", "turn_idx", "text", "benefit", "wording", "noise", "start_s", "end_s"}]}``.  Sentence kinds
  (rep): greeting | discovery | pitch | filler | close; ``benefit`` is set for pitches only;
  ``wording`` is the index of the wording used, ``noise`` says which ASR-like damage was applied (a
  dropped or misheard word), null when none.  Prospect turns carry a ``label`` after a pitch
  (interested | neutral | objection).  Times are synthetic (about 2.6 words a second).

Planted effects: each benefit has an interest probability.  A reaction to a pitch is "interested" with
its benefit's probability (else neutral or objection); a call's outcome is "interested" with the mean
probability of the benefits pitched in it.  Seeds are searched upward from the domain's base seed until
the realised interested-call rates per benefit come out in the planted order with gaps of at least
MIN_RATE_GAP and every benefit is pitched in at least MIN_CALLS calls.  Wordings of one benefit share
few words ("Setup takes about ten minutes" vs "Paste one line of code on your website and it's live").

Deterministic: the same seed and arguments give byte-identical files.  Runs in about a second.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

N_CALLS = 72
MIN_CALLS = 12
MIN_RATE_GAP = 0.04
WORDS_PER_S = 2.6
MAX_SEED_TRIES = 2000
NOISE_P = 0.1  # share of pitch sentences with one dropped or misheard word


@dataclass(frozen=True)
class Benefit:
    key: str
    name: str  # what a founder calls it: the declared descriptor name
    p_interested: float
    example: str  # the one example line of descriptors.csv (not a wording)
    wordings: tuple[str, ...]


@dataclass(frozen=True)
class Domain:
    key: str
    product: str
    base_seed: int
    reps: tuple[str, ...]
    benefits: tuple[Benefit, ...]
    discovery: tuple[tuple[str, tuple[str, ...]], ...]  # question, possible answers


PAYROLL = Domain(
    key="payroll",
    product="Paysmith",
    base_seed=15001,
    reps=("Priya Raman", "Marcus Bell", "Elena Ortiz", "Jonah Weiss"),
    benefits=(
        Benefit("compliance", "compliance", 0.90, "We keep your payroll compliant with tax law.", (
            "Every tax filing goes out on time, so you never pay a late penalty again.",
            "We track the labor law changes in all fifty states for you.",
            "Your year-end forms are prepared and sent to the government automatically.",
            "If an auditor ever knocks, the whole paper trail is already in one place.",
            "New minimum wage rates are applied before they take effect.",
            "Overtime rules are checked on each paycheck, so nobody gets underpaid by mistake.",
        )),
        Benefit("time_saved", "time saved", 0.72, "It saves you hours every pay period.", (
            "Running payroll takes about two clicks on a Friday afternoon.",
            "Most of our customers get back a full day every month.",
            "Your office manager stops typing hours into spreadsheets.",
            "Approving the whole team's pay is done before your coffee gets cold.",
            "What used to eat your Monday morning now runs by itself.",
            "Hours flow in from the time clock, so nobody re-enters anything.",
        )),
        Benefit("employee_app", "employee app", 0.55, "Employees get a self-service app.", (
            "Staff can look up their pay stubs on their phone whenever they want.",
            "Your people request vacation straight from a mobile app.",
            "Workers swap shifts and see their schedule right from their pocket.",
            "New hires sign their onboarding paperwork on their own phone before day one.",
            "Employees can get paid early in the app if they need cash before payday.",
            "Anyone on the team can download their W-2 without calling HR.",
        )),
        Benefit("integrations", "integrations", 0.38, "It works with the software you already have.", (
            "It connects to QuickBooks, so your books match payroll automatically.",
            "Your benefits provider and 401k plan sync with us in the background.",
            "We plug into Xero, NetSuite and most accounting tools you already use.",
            "Timesheets from Deputy or When I Work come over without an export.",
            "There is an open API if your developers want to hook up anything else.",
            "General ledger entries post to your accounting system after every run.",
        )),
        Benefit("price", "price", 0.22, "It's cheaper than your current provider.", (
            "It's six dollars per employee a month, with no setup fee.",
            "We come in at about half of what ADP charges.",
            "There are no hidden fees for extra pay runs or year-end forms.",
            "The first three months are free for teams under fifty.",
            "You pay one flat monthly rate that is locked for the first year.",
            "Most firms your size keep a few thousand dollars a year by switching.",
        )),
        Benefit("ai", "AI assistant", 0.06, "Our AI does the busywork for you.", (
            "Our AI flags unusual paychecks before anything goes out.",
            "You can ask the assistant in plain English what overtime cost last quarter.",
            "A machine learning model forecasts your labor costs for next month.",
            "The chatbot answers employee questions about deductions around the clock.",
            "Artificial intelligence spots duplicate entries and typos in timesheets.",
            "The smart copilot drafts job offers and pay bands for you.",
        )),
    ),
    discovery=(
        ("How are you running payroll today?", (
            "Honestly, it's a spreadsheet and our accountant.",
            "We use an old desktop program that nobody likes.",
            "Our office manager does it by hand every two weeks.",
            "We're on Gusto but it's getting expensive.")),
        ("How many people are on your payroll right now?", (
            "About forty, plus some seasonal folks in the summer.",
            "We're at a hundred and twenty across three locations.",
            "Eighteen full time and a few contractors.")),
        ("What's the most painful part of pay day for you?", (
            "Chasing everyone's hours, every single time.",
            "Tax notices. We got two penalties last year.",
            "People calling me to ask where their pay stub is.")),
    ),
)

DENTAL = Domain(
    key="dental",
    product="ChairTime",
    base_seed=25001,
    reps=("Nadia Okafor", "Tom Reilly", "Hannah Cho", "Luis Romero"),
    benefits=(
        Benefit("no_shows", "fewer no-shows", 0.90, "Reminders cut your no-shows.", (
            "Patients get a text two days before, and they confirm with one tap.",
            "Clinics like yours cut missed appointments by about a third.",
            "If someone cancels, the next person on the waitlist is offered the slot right away.",
            "Empty chairs get filled automatically when a patient drops out.",
            "Reminder emails go out on their own so nobody forgets their cleaning.",
            "People who skip visits get flagged so your front desk can call them.",
        )),
        Benefit("online_booking", "online booking", 0.72, "Patients can book appointments online.", (
            "Patients book themselves from your website, even at midnight.",
            "There's a book now button right on your Google listing.",
            "New patients pick a time that suits them without ever calling the office.",
            "Parents can schedule all three kids in one visit from their phone.",
            "Your open slots show up live on Instagram and on your site.",
            "Half of our bookings come in after hours when the phone line is closed.",
        )),
        Benefit("insurance", "insurance verification", 0.55, "We verify insurance for you.", (
            "Coverage is checked with the carrier before the patient sits down.",
            "Your team sees the copay and remaining benefits ahead of the visit.",
            "Eligibility for Delta and MetLife plans is confirmed overnight.",
            "No more holding on the phone with insurers to check a plan.",
            "Claims are prefilled with the right codes so fewer get denied.",
            "The patient's plan details land in their chart by themselves.",
        )),
        Benefit("setup", "quick setup", 0.38, "Getting started is fast and easy.", (
            "Setup takes about ten minutes, and we import your existing calendar.",
            "Paste one line of code on your website and it's live.",
            "We move all your patient data over from Dentrix in an afternoon.",
            "There's nothing to install, it runs in any browser.",
            "Our onboarding team does the migration for you over a weekend.",
            "Your staff learn it in a single lunch break.",
        )),
        Benefit("price", "price", 0.22, "It's affordable for small practices.", (
            "It's ninety-nine dollars a month per location.",
            "We cost less than one missed appointment each month.",
            "There's no contract, you can cancel anytime.",
            "There's no per-provider fee, however many dentists you add.",
            "We're about a third cheaper than Weave.",
            "The first month is on us.",
        )),
        Benefit("reports", "practice reports", 0.06, "You get reports on how the practice is doing.", (
            "A dashboard shows production per hygienist every week.",
            "You can see which treatments patients accept and which they turn down.",
            "The monthly report tells you where new patients heard about you.",
            "Chair utilization is charted by day and by hour.",
            "You'll know your revenue per visit at a glance.",
            "Every Monday you get an email with last week's numbers.",
        )),
    ),
    discovery=(
        ("How do patients book with you today?", (
            "Mostly by phone, and the line is busy all morning.",
            "They call, or they email and we call them back.",
            "We have a form on the website but someone has to type it in.")),
        ("How many chairs and providers do you have?", (
            "Six chairs, two dentists and three hygienists.",
            "Four operatories and one associate.",
            "We have two locations with about ten chairs in total.")),
        ("What costs you the most time at the front desk?", (
            "Insurance calls, by far.",
            "Rescheduling people who don't show up.",
            "Answering the phone, honestly, it never stops.")),
    ),
)

RESTAURANT = Domain(
    key="restaurant",
    product="Tablewise",
    base_seed=35001,
    reps=("Carla Mendes", "Devon Price", "Yuki Tanaka", "Omar Haddad"),
    benefits=(
        Benefit("speed", "faster service", 0.90, "Your servers turn tables faster.", (
            "Orders fire to the kitchen the moment the server taps them in.",
            "Guests can pay at the table, so nobody waits ten minutes for the check.",
            "Your bartenders ring up a round in three taps.",
            "Tickets print on the grill line before the waiter is back at the pass.",
            "Splitting a bill six ways takes a couple of seconds.",
            "On a busy Saturday you seat one more turn every night.",
        )),
        Benefit("inventory", "inventory tracking", 0.72, "It keeps track of your stock.", (
            "When the salmon runs low, the item greys out on every terminal.",
            "You see food cost per plate next to each menu item.",
            "Purchase orders to your suppliers are drafted from what sold this week.",
            "Waste and comps are logged, so you know where the money leaks.",
            "Counting the walk-in takes fifteen minutes with a handheld scanner.",
            "Par levels warn the chef before the kitchen runs out of fries.",
        )),
        Benefit("online_orders", "online ordering", 0.55, "Customers can order online.", (
            "Takeout orders from your website land straight on the kitchen screen.",
            "DoorDash and Uber Eats tickets show up in the same queue as dine-in.",
            "Regulars reorder their usual from a link in a text message.",
            "Your menu page lets people schedule a pickup for tomorrow lunch.",
            "Curbside guests tap I'm here and a runner walks the bag out.",
            "You keep the delivery commission because guests order from you directly.",
        )),
        Benefit("staff", "staff scheduling", 0.38, "It handles your staff schedules.", (
            "Shift swaps happen between servers without a single phone call.",
            "The manager builds next week's rota in ten minutes from last year's sales.",
            "Tips are pooled and split by hours worked, automatically.",
            "Cooks clock in on the terminal with a four-digit code.",
            "You get a warning before anybody slides into overtime.",
            "Labor as a share of sales is shown live during the shift.",
        )),
        Benefit("price", "price", 0.22, "It costs less than your current system.", (
            "It's sixty-nine dollars a month per terminal.",
            "The card reader is free when you sign up this month.",
            "Processing is two point four percent with no monthly minimum.",
            "We beat Toast on fees for a place your size.",
            "There's no long contract, you can leave whenever you like.",
            "Hardware is included, so there's nothing to buy upfront.",
        )),
        Benefit("loyalty", "loyalty program", 0.06, "Regulars earn rewards.", (
            "Guests collect points on every visit and get a free dessert on the tenth.",
            "Birthday coupons go out by themselves a week before.",
            "You can text a happy hour offer to everyone who came in last month.",
            "Top spenders are tagged so the host greets them by name.",
            "A punch card lives in their phone's wallet instead of their pocket.",
            "Lapsed diners get a come-back voucher after sixty days away.",
        )),
    ),
    discovery=(
        ("What are you using at the register today?", (
            "An old cash register and a paper ticket book.",
            "We're on Square but it struggles with table service.",
            "A legacy system the previous owner bought in 2012.")),
        ("How many covers do you do on a busy night?", (
            "Around two hundred on a Friday.",
            "Maybe eighty, it's a small dining room.",
            "Three hundred plus when the patio is open.")),
        ("Where does service slow down the most?", (
            "Payment at the end, people wave for the check forever.",
            "The kitchen loses tickets when it gets busy.",
            "Honestly, the phone orders during the dinner rush.")),
    ),
)

FLEET = Domain(
    key="fleet",
    product="Roadlight",
    base_seed=45001,
    reps=("Grace Mbeki", "Lars Nilsson", "Tasha Boyd", "Ravi Menon"),
    benefits=(
        Benefit("fuel", "fuel savings", 0.90, "You spend less on fuel.", (
            "Idling alerts alone cut most fleets' diesel bill by a tenth.",
            "Drivers get routed around traffic, so the tanks last longer.",
            "Fuel card purchases are matched to the truck that actually filled up.",
            "You can see which vans burn the most gas per mile.",
            "Speeding and harsh acceleration get coached out within a month.",
            "One customer saved forty thousand dollars at the pump last year.",
        )),
        Benefit("tracking", "live tracking", 0.72, "You see where every vehicle is.", (
            "Every truck shows up on a map, updated every ten seconds.",
            "Dispatch sends the closest crew to an urgent job.",
            "Customers get a text with the technician's arrival time.",
            "If a trailer leaves the yard after hours, you get an alert.",
            "Geofences tell you when a van reaches a site and how long it stays.",
            "Your whole route history is there to replay for any day.",
        )),
        Benefit("safety", "driver safety", 0.55, "It makes your drivers safer.", (
            "A dash camera records the road and saves the clip when a crash happens.",
            "Drivers hear a chime when they look at their phone behind the wheel.",
            "Each driver gets a weekly score and the best ones earn a bonus.",
            "Insurers give our customers lower premiums after six months.",
            "Footage clears your driver when someone else causes the accident.",
            "Fatigue warnings pop up after too many hours on the road.",
        )),
        Benefit("maintenance", "maintenance alerts", 0.38, "We remind you when vehicles need service.", (
            "Engine fault codes reach your mechanic before the check-engine light stays on.",
            "Oil changes are scheduled from the real mileage, not a guess.",
            "Tire pressure problems are flagged before a blowout.",
            "Inspection reports are filled in on the driver's tablet each morning.",
            "Breakdowns dropped by a quarter for the fleets we work with.",
            "Battery health warnings come in while the truck is still parked at the depot.",
        )),
        Benefit("compliance", "ELD compliance", 0.22, "It keeps you compliant with DOT rules.", (
            "Hours of service are logged by the device, no paper logbooks.",
            "Roadside inspectors can read the driver's record straight off the tablet.",
            "IFTA mileage by state is totaled for your quarterly filing.",
            "We're on the FMCSA list of certified devices.",
            "Drivers get a heads-up before they break the eleven-hour limit.",
            "Audit files for the last six months export in one click.",
        )),
        Benefit("price", "price", 0.06, "It's priced fairly for small fleets.", (
            "It's twenty-five dollars per vehicle a month.",
            "The hardware plugs in for free with an annual plan.",
            "We're cheaper than Samsara for fleets under a hundred trucks.",
            "There's no installation charge, drivers plug it in themselves.",
            "The first thirty days are a free trial on five trucks.",
            "Adding a new van costs the same flat rate, no tiers.",
        )),
    ),
    discovery=(
        ("How do you keep track of your vehicles today?", (
            "Phone calls to the drivers, mostly.",
            "We have some old GPS units, half of them don't work.",
            "Paper logs and a whiteboard in the dispatch office.")),
        ("How many vehicles are in your fleet?", (
            "Thirty-two box trucks and a few pickups.",
            "About ninety across two depots.",
            "Twelve vans, all local routes.")),
        ("What keeps you up at night with the fleet?", (
            "Fuel costs, they keep going up.",
            "Accidents. One bad claim could sink us.",
            "Trucks breaking down in the middle of a delivery.")),
    ),
)

DOMAINS = {d.key: d for d in (PAYROLL, DENTAL, RESTAURANT, FLEET)}

PROSPECTS = ("Tom Becker", "Aisha Khan", "Greg Holt", "Mei Lin", "Sofia Rossi", "Dan Murphy", "Ruth Adler",
             "Kofi Mensah", "Laura Price", "Ben Carter", "Ines Duarte", "Raj Patel", "Olga Petrova",
             "Sam Whitaker", "Nora Quinn", "Victor Hale")
COMPANIES = ("Bluepeak", "Harbor Street", "Maple and Finch", "Northgate", "Cedar Lane", "Brightwater",
             "Oakridge", "Summit Row", "Riverside", "Kestrel", "Ironwood", "Lakeshore")

FILLERS_BEFORE = (
    "Let me share my screen for a second.",
    "Bear with me while I pull that up.",
    "So here is the part people usually ask about.",
    "Good question, I get that one a lot.",
    "Let me jump to the next slide.",
)
FILLERS_AFTER = (
    "I'll send you the slides after this.",
    "Does that make sense so far?",
    "Happy to go deeper on that later.",
)
REACTIONS = {
    "interested": (
        "Oh, that would really help us.",
        "That's exactly our problem right now.",
        "Okay, I like that a lot.",
        "Can you show me how that works?",
        "Wow, how quickly could we get that?",
        "That would save my team a lot of grief.",
        "Really? That sounds great.",
    ),
    "neutral": (
        "Okay.",
        "Sure, got it.",
        "Right, go on.",
        "Mm, makes sense.",
        "Okay, noted.",
    ),
    "objection": (
        "We already have something for that.",
        "I'm not sure that matters much to us.",
        "Hm, switching sounds like a lot of work.",
        "Our team probably wouldn't use that.",
        "I've heard that promise before.",
    ),
}
CLOSES = (
    "Would it make sense to set up a two-week trial?",
    "Can I book a follow-up with your team for Thursday?",
    "Should I send over a proposal so you can take a look?",
)
CLOSE_REPLIES = {
    "interested": (
        "Yes, let's do that, send me the invite.",
        "Sure, I'd like my business partner to see it too.",
        "Yes, send it over and we'll get started.",
    ),
    "not_interested": (
        "Let me think about it and I'll get back to you.",
        "I don't think it's for us right now.",
        "Maybe next quarter, we're swamped.",
    ),
}
# misheard words, as a speech recognizer might write them
MISHEARD = {
    "QuickBooks": "quick looks", "payroll": "pay role", "Xero": "zero", "hygienist": "hygiene is",
    "carrier": "career", "copay": "co-pay", "Dentrix": "dent tricks", "paychecks": "pay checks",
    "waitlist": "weight list", "eligibility": "ability", "W-2": "w two", "onboarding": "on boarding",
    "cancels": "cancel", "Instagram": "instant gram", "prefilled": "pre filled", "forecasts": "for casts",
    # restaurant and fleet (none of these words is in a payroll or dental wording)
    "DoorDash": "door dash", "salmon": "sermon", "rota": "rotor", "Toast": "toast", "diesel": "the sell",
    "Geofences": "G fences", "IFTA": "if to", "FMCSA": "FMC essay", "Samsara": "some Sara", "tires": "tyres",
    "fries": "freeze", "technician's": "technicians",
}


def _noisy(text: str, rng: random.Random) -> tuple[str, str | None]:
    """Damage one word as speech recognition might (a misheard word, else a dropped one)."""
    if rng.random() >= NOISE_P:
        return text, None
    words = text.split()
    heard = [i for i, w in enumerate(words) if w.strip(".,?") in MISHEARD]
    if heard:
        i = rng.choice(heard)
        core = words[i].strip(".,?")
        words[i] = words[i].replace(core, MISHEARD[core])
        return " ".join(words), "misheard"
    droppable = [i for i, w in enumerate(words[1:-1], start=1) if len(w) > 3]
    if not droppable:
        return text, None
    del words[rng.choice(droppable)]
    return " ".join(words), "dropped"


def _call(domain: Domain, n: int, rng: random.Random) -> dict:
    rep = rng.choice(domain.reps)
    prospect = rng.choice(PROSPECTS)
    company = rng.choice(COMPANIES)
    turns: list[dict] = []

    def say(sentences: list[dict]) -> None:
        turns.append({"speaker": "rep", "name": rep, "text": " ".join(x["text"] for x in sentences),
                      "sentences": sentences, "label": None})

    def hear(text: str, label: str | None = None) -> None:
        turns.append({"speaker": "prospect", "name": prospect, "text": text, "sentences": [], "label": label})

    def s(text: str, kind: str, benefit: str | None = None, wording: int | None = None,
          noise: str | None = None) -> dict:
        return {"text": text, "kind": kind, "benefit": benefit, "wording": wording, "noise": noise}

    p_first, r_first = prospect.split()[0], rep.split()[0]
    say([s(f"Hi {p_first}, this is {r_first} from {domain.product}, thanks for making the time.", "greeting")])
    hear(rng.choice((f"Hi {r_first}, sure, I have about twenty minutes.", "Hello, yes, good timing actually.",
                     f"Hey {r_first}, go ahead.")))
    for question, answers in rng.sample(domain.discovery, rng.choice((1, 2))):
        say([s(question, "discovery")])
        hear(rng.choice(answers))
    pitched = rng.sample(domain.benefits, rng.choice((2, 3)))
    order = list(pitched)
    if rng.random() < 0.2:  # one benefit comes back later in another wording
        order.append(rng.choice(pitched))
    used: dict[str, set[int]] = {}
    for benefit in order:
        free = [i for i in range(len(benefit.wordings)) if i not in used.get(benefit.key, set())]
        w = rng.choice(free)
        used.setdefault(benefit.key, set()).add(w)
        text, noise = _noisy(benefit.wordings[w], rng)
        sentences = [s(text, "pitch", benefit.key, w, noise)]
        roll = rng.random()
        if roll < 0.25:
            sentences.insert(0, s(rng.choice(FILLERS_BEFORE), "filler"))
        elif roll < 0.4:
            sentences.append(s(rng.choice(FILLERS_AFTER), "filler"))
        say(sentences)
        label = "interested" if rng.random() < benefit.p_interested else rng.choice(("neutral", "objection"))
        hear(rng.choice(REACTIONS[label]), label)
    p_call = sum(b.p_interested for b in pitched) / len(pitched)
    outcome = "interested" if rng.random() < p_call else "not_interested"
    say([s(rng.choice(CLOSES), "close")])
    hear(rng.choice(CLOSE_REPLIES[outcome]))
    t = round(rng.uniform(0.3, 1.2), 2)
    for turn in turns:
        turn["start_s"] = t
        t = round(t + len(turn["text"].split()) / WORDS_PER_S + 0.2, 2)
        turn["end_s"] = t
        t = round(t + rng.uniform(0.3, 0.9), 2)
    return {"file": f"call_{n:03d}.json", "rep": rep, "prospect": prospect, "company": company,
            "outcome": outcome, "turns": turns}


def _realised(domain: Domain, calls: list[dict]) -> dict[str, tuple[int, int]]:
    """(calls, interested calls) per benefit over the calls where it was pitched."""
    out = {}
    for b in domain.benefits:
        said = [c for c in calls if any(x["benefit"] == b.key for t in c["turns"] for x in t["sentences"])]
        out[b.key] = (len(said), sum(c["outcome"] == "interested" for c in said))
    return out


def _acceptable(domain: Domain, realised: dict[str, tuple[int, int]]) -> bool:
    rates = []
    for b in domain.benefits:
        n, k = realised[b.key]
        if n < MIN_CALLS:
            return False
        rates.append(k / n)
    return all(a - b >= MIN_RATE_GAP for a, b in zip(rates, rates[1:]))


def generate(domain: Domain, *, n_calls: int = N_CALLS, seed: int | None = None) -> dict:
    """The truth document of one corpus; searches seeds from the domain's base seed unless one is given."""
    seeds = [seed] if seed is not None else range(domain.base_seed, domain.base_seed + MAX_SEED_TRIES)
    for candidate in seeds:
        rng = random.Random(candidate)
        calls = [_call(domain, n, rng) for n in range(1, n_calls + 1)]
        realised = _realised(domain, calls)
        if seed is not None or _acceptable(domain, realised):
            break
    else:
        raise SystemExit(f"{domain.key}: no seed in {MAX_SEED_TRIES} tries gives the planted order")
    benefits = {b.key: {"name": b.name, "p_interested": b.p_interested, "example": b.example,
                        "wordings": list(b.wordings), "calls": realised[b.key][0],
                        "interested_calls": realised[b.key][1],
                        "rate": round(realised[b.key][1] / realised[b.key][0], 4) if realised[b.key][0] else None}
                for b in domain.benefits}
    pitches = [{"file": c["file"], "turn_idx": i, "text": x["text"], "benefit": x["benefit"],
                "wording": x["wording"], "noise": x["noise"], "start_s": t["start_s"], "end_s": t["end_s"]}
               for c in calls for i, t in enumerate(c["turns"]) for x in t["sentences"] if x["kind"] == "pitch"]
    return {"generator": "scripts/make_descriptor_calls.py", "seed": candidate, "domain": domain.key,
            "product": domain.product, "benefits": benefits, "calls": calls, "pitches": pitches}


def transcript(call: dict) -> str:
    turns = [{"speaker": t["name"], "text": t["text"], "start": t["start_s"], "end": t["end_s"]}
             for t in call["turns"]]
    return json.dumps({"turns": turns}, indent=1) + "\n"


def outcomes_csv(truth: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["file", "outcome", "rep"])
    for c in truth["calls"]:
        w.writerow([c["file"], c["outcome"], c["rep"]])
    return buf.getvalue()


def descriptors_csv(truth: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["descriptor", "example"])
    for b in truth["benefits"].values():
        w.writerow([b["name"], b["example"]])
    return buf.getvalue()


def summary(truth: dict) -> dict:
    """The small committed part of the truth: seed, planted and realised rates, wordings, counts."""
    return {"generator": truth["generator"], "domain": truth["domain"], "product": truth["product"],
            "seed": truth["seed"], "calls": len(truth["calls"]), "pitches": len(truth["pitches"]),
            "interested_calls": sum(c["outcome"] == "interested" for c in truth["calls"]),
            "noisy_pitches": sum(p["noise"] is not None for p in truth["pitches"]),
            "benefits": truth["benefits"]}


def write(truth: dict, out: Path) -> None:
    inbox = out / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for old in inbox.glob("call_*.json"):
        old.unlink()
    for call in truth["calls"]:
        (inbox / call["file"]).write_text(transcript(call), encoding="utf-8")
    (out / "outcomes.csv").write_text(outcomes_csv(truth), encoding="utf-8")
    (out / "descriptors.csv").write_text(descriptors_csv(truth), encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/pitchlab-eval"))
    ap.add_argument("--domain", choices=sorted(DOMAINS), action="append",
                    help="domain(s) to write (default: all)")
    ap.add_argument("--calls", type=int, default=N_CALLS)
    ap.add_argument("--seed", type=int, help="use this seed as it is (default: search from the domain's base seed)")
    ap.add_argument("--summary", type=Path, help="also write the small truth summary of every domain to FILE")
    args = ap.parse_args(argv)
    summaries = {}
    for key in args.domain or sorted(DOMAINS):
        truth = generate(DOMAINS[key], n_calls=args.calls, seed=args.seed)
        write(truth, args.out / key)
        summaries[key] = summary(truth)
        rates = ", ".join(f"{b['name']} {b['rate']:.2f} ({b['calls']} calls)" for b in truth["benefits"].values())
        print(f"{key}: seed {truth['seed']}, {len(truth['calls'])} calls, {len(truth['pitches'])} pitches -> "
              f"{args.out / key}; realised rates: {rates}")
    if args.summary:
        args.summary.write_text(json.dumps(summaries, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
