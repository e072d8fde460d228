"""pool.py - a multiprocessing pool of forked workers, each keeping
blocks on its own line until it returns: with --follow-fork, each worker's
profile must name that line (t0650-python.sh)."""
import multiprocessing


def work(n):
    keep = [bytearray(2000) for _ in range(n)]
    return len(keep)


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    with multiprocessing.Pool(2) as pool:
        print(sum(pool.map(work, [300, 400], chunksize=1)))
