# Differential: a thread that holds the GIL in pure Python (no syscalls: a work item that resubmits
# itself to a one-thread pool) while the main thread imports, forks process pools and waits; the
# main thread gets the GIL back only through preemption of the busy thread. This hung for ever
# under runrs when the preemption timer fired between arming and the Sentry's wait for the stub
# (CPython's test_concurrent_futures test_hang_global_shutdown_lock).
import concurrent.futures as futures
import multiprocessing as mp


def submit(pool):
    pool.submit(submit, pool)


with futures.ThreadPoolExecutor(1) as pool:
    pool.submit(submit, pool)
    for i in range(3):
        with futures.ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as workers:
            print(i, workers.submit(sum, [i, 1]).result(), flush=True)
print("done")
