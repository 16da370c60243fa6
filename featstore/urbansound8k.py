"""UrbanSound8K: the facts about the dataset that the code relies on.

UrbanSound8K holds 8,732 labelled sound excerpts (slices) of at most 4 s, cut from
1,297 field recordings on freesound.org, in 10 classes. The slices are split into
10 predefined folds; slices of one recording (one ``fsID``) always share a fold,
so the official protocol is 10-fold cross-validation over these folds, never a
random split.

Original layout of the download::

    UrbanSound8K/
        metadata/UrbanSound8K.csv
        audio/fold1/*.wav ... audio/fold10/*.wav

The metadata columns are ``slice_file_name, fsID, start, end, salience, fold,
classID, class``. The audio keeps the formats of the source recordings: mostly
44.1 or 48 kHz stereo, 16- or 24-bit PCM, with some 8-96+ kHz, mono, 8-bit and
float files.

Citation: J. Salamon, C. Jacoby and J. P. Bello, "A Dataset and Taxonomy for Urban
Sound Research", 22nd ACM International Conference on Multimedia, Orlando, 2014.
Licence: Creative Commons Attribution-NonCommercial 3.0. This project does not ship
the data.
"""

CLASS_NAMES = (
    "air_conditioner",
    "car_horn",
    "children_playing",
    "dog_bark",
    "drilling",
    "engine_idling",
    "gun_shot",
    "jackhammer",
    "siren",
    "street_music",
)
"""Class names, indexed by ``classID``."""

N_CLASSES = len(CLASS_NAMES)
FOLDS = tuple(range(1, 11))

METADATA_COLUMNS = (
    "slice_file_name",
    "fsID",
    "start",
    "end",
    "salience",
    "fold",
    "classID",
    "class",
)

METADATA_CSV = "metadata/UrbanSound8K.csv"
AUDIO_DIR = "audio"

# Clips per fold (rows, folds 1..10) and class (columns, classID 0..9) in the
# official release: 8,732 clips in all.
CLIPS_PER_FOLD_AND_CLASS = (
    (100, 36, 100, 100, 100, 96, 35, 120, 86, 100),
    (100, 42, 100, 100, 100, 100, 35, 120, 91, 100),
    (100, 43, 100, 100, 100, 107, 36, 120, 119, 100),
    (100, 59, 100, 100, 100, 107, 38, 120, 166, 100),
    (100, 98, 100, 100, 100, 107, 40, 120, 71, 100),
    (100, 28, 100, 100, 100, 107, 46, 68, 74, 100),
    (100, 28, 100, 100, 100, 106, 51, 76, 77, 100),
    (100, 30, 100, 100, 100, 88, 30, 78, 80, 100),
    (100, 32, 100, 100, 100, 89, 31, 82, 82, 100),
    (100, 33, 100, 100, 100, 93, 32, 96, 83, 100),
)

N_CLIPS = sum(map(sum, CLIPS_PER_FOLD_AND_CLASS))
"""Clips in the official release: 8,732."""

# Share of the clips of each class that last the full 4 s in the official release
# (the rest are shorter, down to 0.05 s).
FULL_LENGTH_SHARE = (0.997, 0.473, 0.976, 0.675, 0.805, 0.961, 0.043, 0.803, 0.966, 1.0)
