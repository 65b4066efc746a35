"""The test suite runs with one BLAS thread per worker (set in conftest.py)."""


def test_blas_is_single_threaded():
    from threadpoolctl import threadpool_info

    info = [i for i in threadpool_info() if i["user_api"] == "blas"]
    assert info and all(i["num_threads"] == 1 for i in info), info
