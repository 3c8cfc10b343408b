"""Per-user sliding-window rate limit."""

from bot.ratelimit import SWEEP_EVERY, UserRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_window_per_user():
    clock = FakeClock()
    limiter = UserRateLimiter(limit=2, window_s=10, clock=clock)
    assert limiter.check(1).allowed
    assert limiter.check(1).allowed
    assert limiter.check(2).allowed  # another user has their own window
    third = limiter.check(1)
    assert not third.allowed
    assert third.retry_after_s == 10


def test_only_first_rejection_notifies():
    clock = FakeClock()
    limiter = UserRateLimiter(limit=1, window_s=10, clock=clock)
    limiter.check(1)
    assert limiter.check(1).notify
    clock.now += 1
    assert not limiter.check(1).notify
    assert limiter.rejected == 2


def test_window_slides():
    clock = FakeClock()
    limiter = UserRateLimiter(limit=1, window_s=10, clock=clock)
    assert limiter.check(1).allowed
    clock.now += 10
    assert limiter.check(1).allowed


def test_zero_limit_allows_everything():
    limiter = UserRateLimiter(limit=0, window_s=1)
    assert all(limiter.check(1).allowed for _ in range(1000))


def test_idle_users_forgotten():
    clock = FakeClock()
    limiter = UserRateLimiter(limit=1, window_s=10, clock=clock)
    limiter.check(1)
    clock.now += 11
    limiter.forget_idle()
    assert limiter._events == {}


def test_idle_users_swept_during_checks():
    clock = FakeClock()
    limiter = UserRateLimiter(limit=5, window_s=10, clock=clock)
    for user_id in range(SWEEP_EVERY - 1):
        limiter.check(user_id)
    clock.now += 11
    limiter.check(-1)  # the sweep runs before this check is recorded
    assert list(limiter._events) == [-1]
