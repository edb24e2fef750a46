"""Credit scores — the application (A), behaviour (B) and collection (C) cards — and admission.

`scorecard.Scorecard` (optimal binning → WoE → logistic regression → points) and
`gbm.GbmChallenger` (LightGBM held to the scorecard's trends, calibrated) are scikit-learn
estimators; `metrics` measures them; `reasons` explains each score; `features` builds the
characteristics of each kind; `modeldir` saves a fitted model with its metadata; `registry`
keeps versions and champions in the database; `monitor` watches stability; `service` holds the
verbs the CLI and the demo call. `admission` decides applications by hard rules, score
cut-offs and bands from `admission.yaml`.
"""
