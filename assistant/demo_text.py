"""Word lists and text templates for the synthetic demo events."""

# Title first, then phrasings; "score_drop_bnpl" and "structuring_single" are the planted variants.
TEXTS: dict[str, tuple[str, ...]] = {
    "card_not_present": (
        "CNP fraud alert: {amt} at {merchant}",
        "Card-not-present purchase of {amt} at {merchant} flagged by the real-time model; billing and "
        "shipping addresses do not match.",
        "Online authorization for {amt} at {merchant} followed {n} attempts on the card within 20 minutes "
        "from a new device.",
        "{name} disputes an {channel} charge of {amt} at {merchant}; no CVV match and the IP is outside "
        "the home region.",
        "CNP transaction of {amt} at {merchant} scored high risk: first-time device, freshly created email "
        "address, express shipping requested.",
    ),
    "card_present": (
        "Card-present fraud alert: {amt} at {merchant}",
        "Chip fallback to magstripe for {amt} at {merchant}, {km} km from the customer's usual location.",
        "Purchase of {amt} at {merchant} ({channel}) came minutes after a purchase in another city; "
        "possible counterfeit card.",
        "Skimming suspected: {amt} spent at {merchant} on a card recently used at a compromised terminal.",
    ),
    "account_takeover": (
        "Account takeover suspected on {acct}",
        "Password reset followed by a payee change and an outgoing transfer of {amt} on {acct}; the login "
        "came from an unrecognized device.",
        "{acct} ({name}) enrolled a new {channel} device and moved {amt} within an hour of an email change.",
        "A session through an anonymizing proxy added a beneficiary and sent {amt} from {acct}. The "
        "customer denies the activity.",
    ),
    "identity_theft": (
        "Identity theft suspected: {name}",
        "New credit line of {amt} opened for {name} with a mismatched SSN and a new email address.",
        "Application behind {acct} used identity documents reported stolen; {amt} drawn within two days.",
        "Synthetic identity suspected on {acct}: thin credit file, phone number shared with {n} other "
        "applicants, {amt} used.",
    ),
    "score_drop": (
        "Credit score drop of {drop} points",
        "Bureau score for {name} fell from {before} to {after} ({drop} points) after {reason}.",
        "Monthly bureau refresh: score down {drop} points to {after}; the main driver is {reason}.",
        "Credit score decline on {acct} from {before} to {after}. The bureau cites {reason}.",
    ),
    "score_drop_bnpl": (
        "Credit score drop of {drop} points",
        "Bureau score for {name} fell from {before} to {after} ({drop} points) after a missed "
        "buy-now-pay-later (BNPL) instalment was reported.",
        "Score down {drop} points to {after} on {acct}; the bureau lists a missed BNPL instalment with "
        "{provider} as the main factor.",
        "Credit score decline from {before} to {after}: a missed buy-now-pay-later instalment reported 30 "
        "days past due. The customer has {n} other BNPL plans open.",
    ),
    "score_increase": (
        "Credit score increase of {drop} points",
        "Bureau score for {name} rose from {before} to {after} (+{drop}) following {reason_up}.",
        "Score improved {drop} points to {after} on {acct}; the bureau reports {reason_up}.",
    ),
    "structuring": (
        "Possible structuring on {acct}",
        "{n} cash deposits totalling {amt} into {acct} over {days} days, each below the reporting threshold.",
        "Repeated cash deposits ({n} in {days} days, {amt} in total) at several locations; possible "
        "structuring.",
        "Deposits of similar size split across ATMs and branches on {acct}: {amt} over {days} days.",
    ),
    "structuring_single": (
        "Possible structuring on {acct}",
        "Cash deposit of {amt} at {where} into {acct}, just below the $10,000 currency transaction "
        "report threshold.",
        "{name} deposited {amt} in cash at {where}; another deposit in a series kept under $10,000.",
        "Cash deposit of {amt} on {acct} avoids CTR filing by a narrow margin. The customer declined to "
        "state the source of funds.",
    ),
    "rapid_movement": (
        "Rapid movement of funds on {acct}",
        "Incoming wire of {amt} to {acct} went out to {n} beneficiaries within {hours} hours, leaving a "
        "near-zero balance.",
        "{amt} passed through {acct} in under {hours} hours; consistent with a pass-through account.",
        "Rapid in-and-out movement on {acct}: {amt} received and forwarded by {channel} the same day.",
    ),
    "high_risk_jurisdiction": (
        "Transfer involving {country}",
        "Outgoing wire of {amt} from {acct} to a beneficiary in {country} with no stated business purpose.",
        "Incoming transfer of {amt} from {country} does not match the profile of {name}.",
        "{amt} sent to a newly added counterparty in {country}; enhanced due diligence requested.",
    ),
    "kyc_refresh_overdue": (
        "KYC refresh overdue for {acct}",
        "Periodic KYC refresh for {name} is {days} days overdue; the proof of address on file has expired.",
        "Customer due diligence review outstanding on {acct}: beneficial owner details missing ({rule}).",
        "KYC documents for {acct} expired {days} days ago; account restricted pending refresh.",
    ),
    "sanctions_screening_hit": (
        "Sanctions screening hit ({rule})",
        "Payment of {amt} on {acct} held: counterparty name partially matches a sanctions list entry.",
        "Sanctions screening hit on a {amt} payment by {name}; fuzzy match score {pct}% ({rule}).",
        "Wire of {amt} paused after screening flagged the beneficiary bank; manual review under {rule}.",
    ),
    "pep_match": (
        "PEP match for {name}",
        "Onboarding screen matched {name} to a politically exposed person record; enhanced due diligence "
        "required.",
        "PEP match on {acct} after the nightly rescreen ({rule}); relationship owner notified.",
        "{name} identified as a close associate of a PEP; source-of-wealth documents requested.",
    ),
    "transaction_limit_breach": (
        "Limit breach ({rule}) on {acct}",
        "{channel} payment of {amt} exceeded the daily limit for the account tier ({rule}).",
        "{acct} breached its monthly outbound limit with a {amt} payment; no override was approved.",
        "Rule {rule} triggered: {amt} sent by {channel} against a limit of {limit}.",
    ),
    "goods_not_received": (
        "Chargeback: goods not received at {merchant}",
        "{name} filed a chargeback for {amt} at {merchant}: the order never arrived.",
        "Dispute of {amt} against {merchant}, reason goods not received; tracking shows no delivery scan.",
        "Chargeback on {acct} for {amt} at {merchant} after the customer waited {days} days for the item.",
    ),
    "unauthorized_transaction": (
        "Chargeback: unauthorised charge at {merchant}",
        "Chargeback for {amt} at {merchant}: the cardholder states the transaction was not authorised.",
        "{name} disputes a {amt} {channel} charge at {merchant} as unrecognised.",
        "Unauthorised-transaction chargeback of {amt} at {merchant}; the card has been reissued.",
    ),
    "not_as_described": (
        "Chargeback: not as described at {merchant}",
        "Dispute for {amt} at {merchant}: the item arrived damaged and not as described.",
        "Goods returned to {merchant} but the {amt} credit never posted; chargeback raised for {name}.",
        "{name} says the {amt} purchase from {merchant} was counterfeit; representment expected.",
    ),
    "duplicate_charge": (
        "Chargeback: duplicate charge at {merchant}",
        "{amt} at {merchant} posted twice on {acct}; chargeback opened for one of them.",
        "{merchant} settled the same {amt} authorization twice; {name} asked for a refund.",
        "Double billing of {amt} at {merchant} confirmed from the settlement files.",
    ),
    "credential_stuffing": (
        "Credential stuffing against {acct}",
        "{n} failed logins against {acct} from rotating IPs in {mins} minutes; account locked.",
        "Login attempts for {name} from a known botnet range, followed by one successful {channel} login.",
        "Burst of {channel} login failures on {acct}; password reset forced.",
    ),
    "phishing": (
        "Phishing report from {name}",
        "{name} reported a phishing SMS impersonating the bank and entered credentials on a look-alike site.",
        "Customer disclosed a one-time passcode through a phishing link; {amt} at risk on {acct}.",
        "Phishing email reached {name}; a {channel} session from an unfamiliar device followed, {amt} "
        "moved.",
    ),
    "device_anomaly": (
        "Device anomaly on {acct}",
        "Login to {acct} from a rooted device with an emulator fingerprint; step-up authentication failed.",
        "Device fingerprint for {name} changed {n} times in one day; possible remote access tool.",
        "Mobile session on {acct} had screen-sharing software running during a payment.",
    ),
    "sim_swap": (
        "SIM swap before account changes on {acct}",
        "Carrier reported a SIM swap for {name} hours before a password reset on {acct}.",
        "One-time passcodes for {acct} redirected after a recent SIM change; outgoing transfers blocked.",
        "Port-out of the phone number of {name} followed by login attempts on {acct}.",
    ),
    "fee_dispute": (
        "Fee complaint from {name}",
        "{name} complains about a {amt} overdraft fee charged on {acct}.",
        "Customer disputes a {amt} foreign transaction fee and asks for a refund.",
        "Monthly maintenance fee of {amt} charged on {acct} although the waiver balance was met.",
    ),
    "service_delay": (
        "Service delay complaint from {name}",
        "{name} waited {days} days for a replacement card and could not pay bills meanwhile.",
        "Complaint about a transfer from {acct} delayed by {days} business days.",
        "Customer reports that a dispute opened {days} days ago has had no response.",
    ),
    "card_declined": (
        "Card declined at {merchant}",
        "Card of {name} declined at {merchant} for {amt} although funds were available.",
        "Repeated declines at {merchant} ({amt}) after a fraud rule blocked the card; customer frustrated.",
        "{channel} purchase of {amt} at {merchant} declined while travelling; no alert was received.",
    ),
    "collections_contact": (
        "Collections contact complaint from {name}",
        "{name} complains about repeated collections calls on {acct} for a debt already settled.",
        "Customer says collections agents contacted their employer about {acct}.",
        "Collection letters continued after a payment plan was agreed on {acct}.",
    ),
}
STATUS_NOTES: dict[str, tuple[str, ...]] = {
    "open": ("Awaiting first review.", "Queued for triage."),
    "under_review": ("An analyst is reviewing recent activity.", "Customer contacted; awaiting a reply."),
    "escalated": ("Escalated to the investigations team.", "Escalated for second-level review."),
    "closed_confirmed": ("Confirmed after review; case closed.", "Confirmed with the customer and closed."),
    "closed_false_positive": (
        "Closed as a false positive after customer verification.",
        "Activity matched the customer's usual behaviour; closed.",
    ),
}
DOWN_REASONS = (
    "card utilisation rising above 70%", "a 30-day late card payment", "several new hard inquiries",
    "a closed long-standing credit line", "a 60-day late auto loan payment", "a new collections account",
)
UP_REASONS = ("lower revolving utilisation", "an aged-off late payment", "a paid-off personal loan")
COUNTRIES = ("Panama", "the Cayman Islands", "Cyprus", "the UAE", "Belize", "the Seychelles")
BNPL_PROVIDERS = ("SplitPay", "PayLater Co", "Instalo", "FlexiPay")
FIRST_NAMES = (
    "James", "Maria", "Wei", "Aisha", "Carlos", "Emma", "Liam", "Sofia", "Noah", "Priya", "Lucas", "Hannah",
    "Omar", "Chloe", "Mateo", "Grace", "Ethan", "Yuki", "Daniel", "Fatima", "Oliver", "Elena", "Samuel",
    "Nora", "Diego", "Amara", "Jonas", "Leila", "Victor", "Ingrid", "Kwame", "Rosa",
)
LAST_NAMES = (
    "Smith", "Garcia", "Chen", "Khan", "Johnson", "Muller", "Rossi", "Nguyen", "Patel", "Brown", "Silva",
    "Kowalski", "Okafor", "Murphy", "Tanaka", "Lopez", "Schmidt", "Dubois", "Novak", "Haddad", "Wilson",
    "Ivanova", "Mensah", "Larsen", "Costa", "Hughes", "Park", "Reyes", "Fischer", "Moreau", "Bakker", "Walsh",
)
MERCHANT_PREFIXES = (
    "Bright", "Urban", "Summit", "Pixel", "Golden", "Nova", "Metro", "Coastal", "Evergreen", "Redwood",
    "Silver", "Atlas", "Prime", "Lumen", "Harbor",
)
MERCHANT_KINDS = (
    "Electronics", "Outfitters", "Travel", "Grocers", "Games", "Pharmacy", "Home", "Fitness", "Books",
    "Digital", "Apparel", "Autoparts",
)
REGIONS = ("US-East", "US-West", "US-Central", "EU", "UK", "APAC")
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
# The merchant of the planted card-not-present burst; its description below names it.
QUICKSHIP = ("MER-4417", "QuickShip Electronics")
PATTERNS = {
    "cnp_burst_q4_2025": (
        "About 60 card-not-present fraud alerts in Q4 2025 across ~40 accounts, all at MER-4417 "
        "(QuickShip Electronics), online, mostly high/critical, $300-$2,500.",
        "Q4 2025 card-not-present fraud patterns",
    ),
    "structuring_2026_03": (
        "25 AML structuring alerts in March 2026 from 6 US-East accounts: ATM/branch cash deposits of "
        "$9,000-$9,950, just under the $10k reporting threshold.",
        "structuring cash deposits just under 10k in March 2026",
    ),
    "credit_drops_2026_q2": (
        "30 credit score drops of 80+ points in Q2 2026, each after a missed BNPL instalment.",
        "large credit score drops in Q2 2026",
    ),
}
