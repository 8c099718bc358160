"""TensorBoard's way of taking a profile: tf.profiler.experimental.client.trace (profiler_client)
against a server's gRPC address, while REST predicts run, then reads the XSpace it saved with
TensorFlow's own xplane_pb2. Prints {"files": [...], "planes": [{"name", "events": [[name, stats]]}]}.

  python profile_trace.py GRPC_ADDR REST_URL LOGDIR DURATION_MS
"""
import glob
import json
import os
import sys
import threading
import time
import urllib.request

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tensorflow.python.profiler import profiler_client  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402


def predict_every_100ms(url, stop):
    body = json.dumps({"instances": [2.0, 3.0, 4.0]}).encode()
    while not stop.is_set():
        urllib.request.urlopen(urllib.request.Request(url, data=body)).read()
        time.sleep(0.1)


def main():
    grpc_addr, rest_url, logdir, duration_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    stop = threading.Event()
    load = threading.Thread(target=predict_every_100ms, args=(rest_url, stop))
    load.start()
    try:
        profiler_client.trace("grpc://" + grpc_addr, logdir, duration_ms, "", 3)
    finally:
        stop.set()
        load.join()
    files = sorted(glob.glob(os.path.join(logdir, "plugins", "profile", "*", "*.xplane.pb")))
    planes = []
    for path in files:
        space = xplane_pb2.XSpace.FromString(open(path, "rb").read())
        for plane in space.planes:
            names = {k: v.name for k, v in plane.event_metadata.items()}
            stats = {k: v.name for k, v in plane.stat_metadata.items()}
            events = []
            for line in plane.lines:
                for event in line.events:
                    values = {stats[s.metadata_id]: getattr(s, s.WhichOneof("value")) for s in event.stats}
                    events.append([names[event.metadata_id], values, event.duration_ps])
            planes.append({"name": plane.name, "events": events})
    # The profiler client prints its progress on stdout: the result is the last line.
    print()
    print(json.dumps({"files": [os.path.relpath(f, logdir) for f in files], "planes": planes}))


if __name__ == "__main__":
    main()
