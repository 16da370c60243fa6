"""ESC-50 and ESC-10: the facts about the datasets that the code relies on.

ESC-50 holds 2,000 labelled environmental recordings of exactly 5 s, in 50
classes of 40 clips, grouped in five major categories of ten classes each
(targets 0-9 animals, 10-19 natural soundscapes and water sounds, 20-29 human
non-speech sounds, 30-39 interior and domestic sounds, 40-49 exterior and urban
noises). The clips were cut from field recordings on freesound.org: the
fragments of one recording (one ``src_file``, takes ``A``, ``B``, ``C`` ...)
always share a fold and a class. The clips are split into 5 predefined folds of
8 clips per class, so the official protocol is 5-fold cross-validation over
these folds (leave one fold out), never a random split.

ESC-10 is the subset of 400 clips in 10 of the classes (dog, rooster, rain,
sea_waves, crackling_fire, crying_baby, sneezing, clock_tick, helicopter,
chainsaw: :data:`ESC10_TARGETS`), marked by the ``esc10`` column. Its rows keep
their ESC-50 ``target`` values, which a reader must remap to 0..9.

Original layout of the download::

    ESC-50/
        meta/esc50.csv
        audio/*.wav            (2,000 files, no sub-folders)

The metadata columns are ``filename, fold, target, category, esc10, src_file,
take``, e.g. ``1-100032-A-0.wav,1,0,dog,True,100032,A``; file names are
``{fold}-{src_file}-{take}-{target}.wav`` and the rows are sorted by file name.
The ``esc10`` cells are the strings ``True`` and ``False`` (``bool("False")`` is
true: compare the text, or let pandas read them as booleans). Every clip is a
5 s, 44.1 kHz, mono, 16-bit PCM WAV file; a sound shorter than 5 s is padded
with digital silence.

Reference figures (5-fold mean accuracy): Piczak's CNN 64.5 %, human listeners
81.3 %.

Citation: K. J. Piczak, "ESC: Dataset for Environmental Sound Classification",
Proceedings of the 23rd ACM International Conference on Multimedia (ACM
Multimedia), Brisbane, 2015. Licence: the dataset as a whole is Creative
Commons Attribution-NonCommercial 3.0; each clip keeps the licence of its
freesound.org recording (CC BY or CC BY-NC). This project does not ship the data.
"""

CLASS_NAMES = (
    "dog",
    "rooster",
    "pig",
    "cow",
    "frog",
    "cat",
    "hen",
    "insects",
    "sheep",
    "crow",
    "rain",
    "sea_waves",
    "crackling_fire",
    "crickets",
    "chirping_birds",
    "water_drops",
    "wind",
    "pouring_water",
    "toilet_flush",
    "thunderstorm",
    "crying_baby",
    "sneezing",
    "clapping",
    "breathing",
    "coughing",
    "footsteps",
    "laughing",
    "brushing_teeth",
    "snoring",
    "drinking_sipping",
    "door_wood_knock",
    "mouse_click",
    "keyboard_typing",
    "door_wood_creaks",
    "can_opening",
    "washing_machine",
    "vacuum_cleaner",
    "clock_alarm",
    "clock_tick",
    "glass_breaking",
    "helicopter",
    "chainsaw",
    "siren",
    "car_horn",
    "engine",
    "train",
    "church_bells",
    "airplane",
    "fireworks",
    "hand_saw",
)
"""Class names (the ``category`` column), indexed by ``target``."""

N_CLASSES = len(CLASS_NAMES)
FOLDS = tuple(range(1, 6))

METADATA_COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")

METADATA_CSV = "meta/esc50.csv"
AUDIO_DIR = "audio"

CLIP_SECONDS = 5.0
"""Length of every clip, in seconds."""

SAMPLE_RATE = 44100
"""Sample rate of every clip, in Hz (mono, 16-bit PCM)."""

ESC10_TARGETS = (0, 1, 10, 11, 12, 20, 21, 38, 40, 41)
"""ESC-50 ``target`` values of the ten ESC-10 classes, in increasing order (the rows whose
``esc10`` cell is ``True``)."""

CLIPS_PER_CLASS = 40
"""Clips of each class in the official release (8 per fold)."""

N_CLIPS = CLIPS_PER_CLASS * N_CLASSES
"""Clips in the official release: 2,000."""
