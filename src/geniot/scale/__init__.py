"""L4: scale-out. Train one model per asset of a fleet, and score or sample long histories, in
parallel on Ray workers (a local Ray or a cluster) or serially, by the same code path."""

from geniot.scale.chunks import Chunk, plan_chunks
from geniot.scale.engine import ENGINES, RayEngine, SerialEngine, make_engine
from geniot.scale.fleet import FLEET_FILE, TrainedAsset, asset_seed, load_fleet_index, train_fleet
from geniot.scale.sampling import sample_parallel
from geniot.scale.scoring import score_fleet, score_history

__all__ = [
    "ENGINES",
    "FLEET_FILE",
    "Chunk",
    "RayEngine",
    "SerialEngine",
    "TrainedAsset",
    "asset_seed",
    "load_fleet_index",
    "make_engine",
    "plan_chunks",
    "sample_parallel",
    "score_fleet",
    "score_history",
    "train_fleet",
]
