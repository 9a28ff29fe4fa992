"""Write tests/data/pii_sentences.jsonl: call-like sentences written for the redaction evaluation, each with
the personal data it holds ([type, exact text]); sentences with none test that clean speech stays as it is.

Names, numbers, addresses and companies are made up (phone numbers in the fictional 555-01xx ranges and
Ofcom's drama ranges, test card numbers that pass the Luhn check). `scripts/eval_redaction.py` reads it.
Run: python scripts/make_pii_sentences.py
"""
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "pii_sentences.jsonl"
S = []
def add(text, *pii):
    for kind, span in pii:
        assert span in text, (text, span)
    S.append({"text": text, "pii": [list(p) for p in pii]})
P, PH, E, C, A = "PERSON", "PHONE", "EMAIL", "CARD", "ADDRESS"
# names
add("Hi, am I speaking with Maria Lopez?", (P, "Maria Lopez"))
add("Yes, this is Tom Becker, head of sales at Northwind.", (P, "Tom Becker"))
add("My name is Aisha Patel and I run the enablement team.", (P, "Aisha Patel"))
add("You should really talk to Kevin O'Brien about the budget.", (P, "Kevin O'Brien"))
add("I'll loop in my colleague Sarah Chen after this call.", (P, "Sarah Chen"))
add("Jonathan Reyes asked me to take this meeting.", (P, "Jonathan Reyes"))
add("Can you send the deck to Emily as well?", (P, "Emily"))
add("Our VP, Marcus Whitfield, signs off on anything over ten thousand.", (P, "Marcus Whitfield"))
add("Hello, it's Hannah calling back about the trial.", (P, "Hannah"))
add("I spoke with Rachel Green last week and she loved the demo.", (P, "Rachel Green"))
add("Please ask for Daniel Kim at the front desk.", (P, "Daniel Kim"))
add("My manager Laura Schmidt will want to see pricing first.", (P, "Laura Schmidt"))
add("Hey, I'm Olivia, I handle procurement here.", (P, "Olivia"))
add("Mr. Thompson is out until Monday, can I take a message?", (P, "Thompson"))
add("Let me check with Fatima Haddad and get back to you.", (P, "Fatima Haddad"))
add("Sure, Lucas Moreau from our London office will join too.", (P, "Lucas Moreau"))
add("Honestly Brian Walsh tried something similar two years ago.", (P, "Brian Walsh"))
add("The contract should go to Grace Okafor in legal.", (P, "Grace Okafor"))
add("Yeah, Steve thinks we already have enough tools.", (P, "Steve"))
add("This is Natalie Brooks returning your call from yesterday.", (P, "Natalie Brooks"))
add("I forwarded your email to Ahmed Khan, our CTO.", (P, "Ahmed Khan"))
add("Could you schedule it with my assistant, Julia Novak?", (P, "Julia Novak"))
add("When Chris Martinez saw the analytics he asked for a trial.", (P, "Chris Martinez"))
add("I'm covering for Megan Clarke while she's on leave.", (P, "Megan Clarke"))
add("Our founder, Robert Lindqvist, is very hands on with tooling.", (P, "Robert Lindqvist"))
add("Talk to Wei Zhang, he owns the CRM integration.", (P, "Wei Zhang"))
add("Dr. Elena Petrova runs the clinic side of the business.", (P, "Elena Petrova"))
add("So Jessica and Mark both need seats.", (P, "Jessica"), (P, "Mark"))
add("Sorry, who is this again? Oh, Sophie, hi.", (P, "Sophie"))
add("You can cc Victor Alvarez on the proposal.", (P, "Victor Alvarez"))
add("Anna Kowalski here, I got your voicemail.", (P, "Anna Kowalski"))
add("I think Paul Jensen would be the right person for this.", (P, "Paul Jensen"))
# phones
add("My direct line is 415-555-0132.", (PH, "415-555-0132"))
add("Call me back at (212) 555-0198 after lunch.", (PH, "(212) 555-0198"))
add("The best number is 646.555.0147.", (PH, "646.555.0147"))
add("You can text me on +1 312 555 0163.", (PH, "+1 312 555 0163"))
add("Our office number is +44 20 7946 0958.", (PH, "+44 20 7946 0958"))
add("Try my cell, 3125550176, anytime this week.", (PH, "3125550176"))
add("Reach our Berlin team at +49 89 1234 5678.", (PH, "+49 89 1234 5678"))
add("It's 617-555-0111, extension 204.", (PH, "617-555-0111"))
add("Write down 1-800-555-0199 for support.", (PH, "1-800-555-0199"))
add("My mobile is +1 (503) 555-0125 if email fails.", (PH, "+1 (503) 555-0125"))
add("Please call 020 7946 0321 and ask for accounts.", (PH, "020 7946 0321"))
add("The Toronto office picks up at 416-555-0182.", (PH, "416-555-0182"))
add("Sure, it's 202 555 0154.", (PH, "202 555 0154"))
add("Ring me on 07700 900461 when you have the quote.", (PH, "07700 900461"))
add("Fax it to (305) 555-0107 if you still use fax.", (PH, "(305) 555-0107"))
add("I'm at 720-555-0139 most mornings.", (PH, "720-555-0139"))
add("Our French partner is on +33 1 23 45 67 89.", (PH, "+33 1 23 45 67 89"))
add("Leave a message at 888 555 0172.", (PH, "888 555 0172"))
add("The hotline, 408.555.0166, is staffed all day.", (PH, "408.555.0166"))
add("Got it, and my number is 9175550143.", (PH, "9175550143"))
# emails
add("Send it to maria.lopez@northwind.com please.", (E, "maria.lopez@northwind.com"))
add("My email is tbecker@globex.io.", (E, "tbecker@globex.io"))
add("You can reach procurement at purchasing@initech.co.uk.", (E, "purchasing@initech.co.uk"))
add("Just cc aisha_patel@contoso.org on the thread.", (E, "aisha_patel@contoso.org"))
add("It's kevin.obrien+sales@umbrella-corp.com.", (E, "kevin.obrien+sales@umbrella-corp.com"))
add("Email the invoice to billing@acme-widgets.net.", (E, "billing@acme-widgets.net"))
add("My address is s.chen@hooli.com, all lowercase.", (E, "s.chen@hooli.com"))
add("Forward the recording to jreyes@vandelay.com.", (E, "jreyes@vandelay.com"))
add("Use grace.okafor@piedpiper.com for the contract.", (E, "grace.okafor@piedpiper.com"))
add("Send details to info@stark-industries.com and we'll review.", (E, "info@stark-industries.com"))
add("My work email is lmoreau@wayneenterprises.fr.", (E, "lmoreau@wayneenterprises.fr"))
add("Put ahmed.khan@soylent.ai on the invite.", (E, "ahmed.khan@soylent.ai"))
add("The shared inbox is sales-ops@cyberdyne.de.", (E, "sales-ops@cyberdyne.de"))
add("Drop me a line at megan@clarke-design.studio.", (E, "megan@clarke-design.studio"))
add("Reply to victor.alvarez@tyrell.com with the quote.", (E, "victor.alvarez@tyrell.com"))
add("You had julia.novak@massive-dynamic.com, right?", (E, "julia.novak@massive-dynamic.com"))
add("It's pjensen at oceanic dot com.", (E, "pjensen at oceanic dot com"))
add("Write to anna dot kowalski at gringotts dot co dot uk.", (E, "anna dot kowalski at gringotts dot co dot uk"))
add("Send it over to wei.zhang@monsters-inc.com today.", (E, "wei.zhang@monsters-inc.com"))
add("My personal one is chris.m1982@gmail.com.", (E, "chris.m1982@gmail.com"))
# cards
add("The card number is 4111 1111 1111 1111.", (C, "4111 1111 1111 1111"))
add("Charge it to 5500 0000 0000 0004, expiry twelve twenty-seven.", (C, "5500 0000 0000 0004"))
add("Use our Amex, 3400 000000 00009.", (C, "3400 000000 00009"))
add("It's 4012888888881881 for the annual plan.", (C, "4012888888881881"))
add("Card ending... sorry, the full number is 6011 0009 9013 9424.", (C, "6011 0009 9013 9424"))
add("Our corporate card is 5105-1051-0510-5100.", (C, "5105-1051-0510-5100"))
add("Bill 4242 4242 4242 4242 for the first three seats.", (C, "4242 4242 4242 4242"))
add("Try 3782 822463 10005 instead, the other one was declined.", (C, "3782 822463 10005"))
add("The Visa is 4000 0566 5566 5556.", (C, "4000 0566 5566 5556"))
add("Please put it on 2223 0031 2200 3222.", (C, "2223 0031 2200 3222"))
add("Number's 5555 5555 5555 4444, CVC on the back.", (C, "5555 5555 5555 4444"))
add("Run it on 6011111111111117 please.", (C, "6011111111111117"))
add("My card, 3714 496353 98431, is the company one.", (C, "3714 496353 98431"))
add("Take the deposit from 4000 0025 0000 3155.", (C, "4000 0025 0000 3155"))
add("Card number 5200 8282 8282 8210, name as on the account.", (C, "5200 8282 8282 8210"))
# addresses
add("Ship the hardware to 42 Wallaby Way, Sydney.", (A, "42 Wallaby Way, Sydney"))
add("Our office is at 1600 Amphitheatre Parkway, Mountain View, CA 94043.", (A, "1600 Amphitheatre Parkway, Mountain View, CA 94043"))
add("We moved to 221 Baker Street last spring.", (A, "221 Baker Street"))
add("Send the contract to 350 Fifth Avenue, New York, NY 10118.", (A, "350 Fifth Avenue, New York, NY 10118"))
add("I'm at 12 Elm Road most days.", (A, "12 Elm Road"))
add("The warehouse is 4500 Industrial Blvd, Dallas.", (A, "4500 Industrial Blvd, Dallas"))
add("Mail it to 77 Massachusetts Ave, Cambridge, MA 02139.", (A, "77 Massachusetts Ave, Cambridge, MA 02139"))
add("Our new address is 10 Downing Street, London.", (A, "10 Downing Street, London"))
add("Drop by 500 Oak Lane if you're in town.", (A, "500 Oak Lane"))
add("The invoice should say 88 Harbour Drive, Suite 300.", (A, "88 Harbour Drive"))
add("We're at 2 Market Square now, above the bakery.", (A, "2 Market Square"))
add("Deliveries go to 1200 West 4th Street, Austin, TX 78703.", (A, "1200 West 4th Street, Austin, TX 78703"))
add("Head office is 9 Rue Lafayette Court, Montreal.", (A, "9 Rue Lafayette Court, Montreal"))
add("It's 31 Maple Crescent, just off the ring road.", (A, "31 Maple Crescent"))
add("Please send samples to 640 Pine St, Seattle, WA 98101.", (A, "640 Pine St, Seattle, WA 98101"))
add("We're the big building at 1 Infinite Loop, Cupertino.", (A, "1 Infinite Loop"))
add("My home office is 18 Willow Court, Leeds.", (A, "18 Willow Court, Leeds"))
add("Our depot, 7300 Commerce Highway, takes deliveries till five.", (A, "7300 Commerce Highway"))
add("The venue is 455 Market Street, San Francisco.", (A, "455 Market Street, San Francisco"))
add("Send it to 15 Victoria Road, Brighton.", (A, "15 Victoria Road, Brighton"))
# mixed
add("I'm Daniela Ruiz, my number is 305-555-0190 and my email is druiz@gringotts.com.",
    (P, "Daniela Ruiz"), (PH, "305-555-0190"), (E, "druiz@gringotts.com"))
add("Send the invoice to Omar Farouk at 25 Queen Street, Auckland.", (P, "Omar Farouk"), (A, "25 Queen Street, Auckland"))
add("Put it on 4111 1111 1111 1111 and email the receipt to ap@northwind.com.", (C, "4111 1111 1111 1111"), (E, "ap@northwind.com"))
add("Call Helen Park on 646-555-0175 before Friday.", (P, "Helen Park"), (PH, "646-555-0175"))
add("Ask for Igor Petrov at 300 Lake Shore Drive, Chicago.", (P, "Igor Petrov"), (A, "300 Lake Shore Drive, Chicago"))
# no personal data (call-like; product, company, competitor names, numbers, dates, places)
for t in [
    "You see exactly who watched your video and for how long.",
    "Every view syncs into Salesforce automatically.",
    "You get an alert as soon as a buyer opens your video.",
    "Our AI editor trims the ums and pauses for you.",
    "Pricing starts at twenty dollars per seat per month.",
    "We already use Loom for most of our async updates.",
    "How does that work with HubSpot?",
    "That sounds interesting, can you send me a one pager?",
    "We have about forty reps across three offices.",
    "Our budget for this year is already spent, honestly.",
    "Can we do a demo next Tuesday at 2 pm?",
    "We closed 120 deals last quarter, mostly mid-market.",
    "The integration takes about ten minutes to set up.",
    "Is there a discount if we sign for two years?",
    "We're based in Chicago but the team is remote.",
    "I'm not sure this is a priority for us right now.",
    "Viewer analytics would really help our SDR team.",
    "It works in Gmail, Outlook and LinkedIn messages.",
    "Our renewal with Vidyard comes up in March.",
    "Can you share a case study from a SaaS company?",
    "The free trial lasts fourteen days, no card needed.",
    "We record about 300 videos a week on the team.",
    "Security review usually takes our IT team a month.",
    "Does it support single sign-on with Okta?",
    "Let's reconnect after the board meeting on the 15th.",
    "Your reps can record from the Chrome extension.",
    "We saw a 30 percent lift in reply rates with video.",
    "That's too expensive for a team of five.",
    "I need to run this by finance first.",
    "Send me the pricing page and I'll take a look.",
    "Version 2.4 added captions in twelve languages.",
    "We tried Gong last year but it was overkill.",
    "What happens to the data if we cancel?",
    "Okay, got it, that makes sense.",
    "Our fiscal year starts in July, so timing is tight.",
    "Can it export reports to Excel or Google Sheets?",
    "The onboarding call is usually 45 minutes.",
    "We'd need at least 25 seats for the sales floor.",
    "Honestly the analytics piece is what caught my attention.",
    "I'll forward this to our RevOps lead internally.",
    # the reps' own names (tests/data/pii_team.txt) stay
    "Hi, this is Dana from Clipcast, do you have a minute?",
    "Sam here from Clipcast, following up on the demo.",
    "Dana Smith with Clipcast, thanks for taking the call.",
    "It's Sam again, with the pricing you asked for.",
]:
    add(t)
with open(OUT, "w") as f:
    for s in S:
        f.write(json.dumps(s) + "\n")
from collections import Counter
print(len(S), Counter(k for s in S for k, _ in s["pii"]), sum(not s["pii"] for s in S))
