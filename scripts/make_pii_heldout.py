"""Write tests/data/pii_heldout.jsonl: more call-like sentences, written after the redactor's rules were set
(scripts/make_pii_sentences.py's set was used to adjust them), so its figures are on unseen cases.
Same format and conventions (made-up people, 555-01xx and Ofcom drama numbers, Luhn-valid test cards).
Run: python scripts/make_pii_heldout.py
"""
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "pii_heldout.jsonl"
S = []


def add(text, *pii):
    for kind, span in pii:
        assert span in text, (text, span)
    S.append({"text": text, "pii": [list(p) for p in pii]})


P, PH, E, C, A = "PERSON", "PHONE", "EMAIL", "CARD", "ADDRESS"
add("Morning, you've reached Diane Foster.", (P, "Diane Foster"))
add("I report to Samuel Adeyemi, he's our sales director.", (P, "Samuel Adeyemi"))
add("Can I get Ingrid Larsen on the next call?", (P, "Ingrid Larsen"))
add("Patrick said you'd be calling.", (P, "Patrick"))
add("My partner Giulia Romano handles the books.", (P, "Giulia Romano"))
add("Yes, it's Connor Murphy from the Denver branch.", (P, "Connor Murphy"))
add("We hired Tanya Ivanova to run enablement last month.", (P, "Tanya Ivanova"))
add("Hi, Raj Malhotra speaking, how can I help?", (P, "Raj Malhotra"))
add("Send the agenda to Beatriz and me.", (P, "Beatriz"))
add("Let me put you through to Henrik Nilsson.", (P, "Henrik Nilsson"))
add("Ms. Alvarez approved the pilot yesterday.", (P, "Alvarez"))
add("Our ops lead, Kwame Mensah, will test it first.", (P, "Kwame Mensah"))
add("My number changed, it's now 503-555-0148.", (PH, "503-555-0148"))
add("Call the front desk on (617) 555-0120.", (PH, "(617) 555-0120"))
add("Dial +1 206 555 0171 and press two.", (PH, "+1 206 555 0171"))
add("The London line is 020 7946 0754.", (PH, "020 7946 0754"))
add("Text me at 312.555.0108 when you land.", (PH, "312.555.0108"))
add("My cell is 07700 900218.", (PH, "07700 900218"))
add("You can also try 8005550134 toll free.", (PH, "8005550134"))
add("The number for billing is 1 (888) 555-0115.", (PH, "1 (888) 555-0115"))
add("Email me at d.foster@brightlane.com.", (E, "d.foster@brightlane.com"))
add("Our RFP inbox is rfp@harborview-health.org.", (E, "rfp@harborview-health.org"))
add("Loop in samuel.adeyemi@kestrel.co.za too.", (E, "samuel.adeyemi@kestrel.co.za"))
add("It's ingrid dot larsen at fjordline dot com.", (E, "ingrid dot larsen at fjordline dot com"))
add("The signed copy went to legal@quarrybank.net.", (E, "legal@quarrybank.net"))
add("Try rmalhotra@saffron-analytics.in instead.", (E, "rmalhotra@saffron-analytics.in"))
add("My gmail is connor.murphy77@gmail.com.", (E, "connor.murphy77@gmail.com"))
add("Please use the card 4111-1111-1111-1111.", (C, "4111-1111-1111-1111"))
add("The company Mastercard is 5425 2334 3010 9903.", (C, "5425 2334 3010 9903"))
add("Put the setup fee on 3700 000000 00002.", (C, "3700 000000 00002"))
add("Charge 4000 0000 0000 0002 for the upgrade.", (C, "4000 0000 0000 0002"))
add("Our Discover card is 6011 0000 0000 0004.", (C, "6011 0000 0000 0004"))
add("We're at 85 Harbor View Drive, Portland.", (A, "85 Harbor View Drive, Portland"))
add("The new office is 300 North Michigan Avenue, Chicago, IL 60601.", (A, "300 North Michigan Avenue, Chicago, IL 60601"))
add("Send the kit to 14 Rosemary Lane, Bath.", (A, "14 Rosemary Lane, Bath"))
add("It's the red building at 2200 Mission Street.", (A, "2200 Mission Street"))
add("Deliver to 7 Kings Road, Suite 12, Manchester.", (A, "7 Kings Road"))
add("Our lab is on 410 Terry Ave N, Seattle.", (A, "410 Terry Ave"))
add("Mail the hardware to 99 Prospect Place, Brooklyn, NY 11217.", (A, "99 Prospect Place, Brooklyn, NY 11217"))
add("Diane Foster, 503-555-0162, diane@brightlane.com, that's everything.",
    (P, "Diane Foster"), (PH, "503-555-0162"), (E, "diane@brightlane.com"))
add("Bill it to Kwame Mensah, 18 Station Road, Reading.", (P, "Kwame Mensah"), (A, "18 Station Road, Reading"))
for t in [
    "How long does the rollout usually take?",
    "We send about two hundred proposals a month.",
    "The analytics dashboard is what sold me.",
    "Can it track views on mobile too?",
    "Our quota went up twenty percent this year.",
    "I'd want to see it working with Salesforce first.",
    "Let's pencil in Thursday at 10 for the demo.",
    "The team in Austin is twelve people.",
    "We switched from Loom about a year ago.",
    "Does the price include the AI editor?",
    "Not interested, we just signed a three year deal.",
    "That alert feature is exactly what our SDRs need.",
    "Call me next week, after the quarter closes.",
    "Our CRM is a bit of a mess right now.",
    "Do you offer monthly billing?",
    "The video opened twice yesterday from New York.",
    "We have 3 offices and about 80 sellers.",
    "Can we get a sandbox for the IT review?",
    "Put me down for a follow-up on the 22nd.",
    "Sounds good, send over the order form.",
]:
    add(t)
with open(OUT, "w") as f:
    for s in S:
        f.write(json.dumps(s) + "\n")
from collections import Counter  # noqa: E402

print(len(S), Counter(k for s in S for k, _ in s["pii"]), sum(not s["pii"] for s in S))
