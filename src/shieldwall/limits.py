"""Plausible bounds on every input quantity that drives time or memory: one table, read by the
scenario, catalog, campaign and WTA models and by docs/scenario.md, docs/campaign.md, docs/wta.md.

Each bound is far beyond anything real (the largest raids so far were under 1,000 threats a
night; no interceptor flies 10 km/s) yet keeps one run inside what a laptop holds. A value past
a bound is refused at validation with its field path, never run. Products of several bounded
quantities (threats x shots x replications) are the engine's budget's business
(``shieldwall.engine.budget``)."""

from __future__ import annotations

# --- defaults of every command ------------------------------------------------------------------
# One default per kind of input, the same in `run`, `campaign`, `compare` and the web app: a raid
# scenario is cheap to replicate, a campaign is a raid per night for months.
RAID_REPLICATIONS = 1_000
CAMPAIGN_REPLICATIONS = 200

# --- files -------------------------------------------------------------------------------------
MAX_FILE_BYTES = 4 << 20  # a scenario or campaign file; the web app's upload cap is 1 MiB
MAX_YAML_VALUES = 200_000  # values (nodes) in one file, aliases expanded
MAX_YAML_DEPTH = 64  # nesting of mappings and lists (a scenario needs 6)
MAX_TEXT_CHARS = 10_000  # a description, a note, a source
MAX_NAME_CHARS = 200  # a name, a kind, a network

# --- a raid scenario ---------------------------------------------------------------------------
MAX_TIME_S = 7 * 86_400.0  # raid start and launch window: one week
MAX_SPREAD_KM = 1_000.0  # launch points spread over a disc this wide
MAX_RAID_COUNT = 100_000  # threats (or decoys) of one raid
MAX_THREATS = 100_000  # threats and decoys of a whole scenario
MAX_RAIDS = 10_000
MAX_WAYPOINTS = 100  # per raid
MAX_ASSETS = 10_000
MAX_BATTERIES = 1_000
MAX_RADARS = 1_000
MAX_STOCK = 1_000_000  # rounds of one interceptor type at one battery or depot
MAX_SALVO = 100  # shots per engagement
MAX_ENGAGEMENTS = 100  # engagements per threat
MIN_DECISION_INTERVAL_S = 0.1
MAX_DECISION_INTERVAL_S = 3_600.0
MAX_ASSESS_S = 3_600.0
MAX_EPOCH_TIME_LIMIT_S = 60.0
MAX_ASSET_VALUE = 1e12
MAX_ASSET_RADIUS_M = 100_000.0  # how far from an asset's centre a threat still hits it
MAX_COST_WEIGHT = 1e6  # value units per US dollar
MAX_SEED = 2**63 - 1
MAX_EW_ZONES = 1_000
MAX_AREA_DEFENCES = 1_000
MAX_ZONE_RADIUS_KM = 2_000.0
MAX_AREA_UNITS = 100_000  # teams, sites or aircraft of one area defence
MAX_ACOUSTIC_FIELDS = 1_000
MAX_ACOUSTIC_SENSORS = 1_000_000  # sensors of one acoustic field (Ukraine's network: ~10,000-14,000)
MAX_REPORT_LATENCY_S = 3_600.0
MAX_ATTEMPTS_PER_MIN = 600.0  # engagements one area unit can start per minute
MAX_TRACK_TIME_S = 600.0  # a fire unit's track time before it can launch at a ballistic threat
MAX_ACCEL_G = 100.0  # lateral acceleration of a manoeuvring threat or an interceptor
MAX_PENAIDS = 20  # penetration aids (decoys) a ballistic missile releases
MAX_LOSS_PER_KM = 10.0  # an electronic-warfare zone's loss rate per km flown inside

# --- the catalog -------------------------------------------------------------------------------
MIN_SPEED_MPS = 1.0  # slower "threats" would take weeks to arrive
MAX_SPEED_MPS = 10_000.0  # above any interceptor or re-entry speed
MAX_RANGE_KM = 20_000.0  # half the earth's circumference
MAX_ALTITUDE_M = 2_000_000.0  # exo-atmospheric intercepts included
MAX_APOGEE_KM = 5_000.0
MAX_RADAR_HEIGHT_M = 100_000.0
MIN_RCS_M2 = 1e-6
MAX_RCS_M2 = 1e4
MAX_COST_USD = 1e10  # one round or one threat
MAX_ROUNDS = 100_000  # per launcher, per shot (a gun burst)
MAX_CHANNELS = 1_000  # fire channels, launchers of one battery
MAX_RELOAD_S = 30 * 86_400.0

# --- a campaign --------------------------------------------------------------------------------
MAX_NIGHTS = 3_660  # ten years
MAX_QUANTITY = 1_000_000  # one delivery
MAX_PER_MONTH = 1_000_000  # production
MAX_FAMILY_SIZE = 100_000  # threats of one family on one night
MAX_LIST = 10_000  # deliveries, raid nights, empirical sizes
MAX_NB_N = 1e6

# --- weapon-target assignment instances --------------------------------------------------------
MAX_WTA_TYPES = 10_000
MAX_WTA_TARGETS = 10_000
MAX_WTA_CELLS = 4_000_000  # types x targets
MAX_WTA_UNITS = 1_000_000  # units of all types together
MAX_WTA_FILE_BYTES = 256 << 20
MAX_RECORD_FILE_BYTES = 256 << 20  # an attack record CSV (2022-2024 is under 1 MiB)
