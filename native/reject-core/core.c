#define _GNU_SOURCE
#include "core.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#define STACK_BYTES (256 * 1024)

double rc_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double position(rc_core *c, double now) {
  return c->tracking_encoder ? (double)__atomic_load_n(c->encoder, __ATOMIC_SEQ_CST) : now;
}

static void finish(rc_core *c, int i, enum rc_outcome outcome, const char *why) {
  rc_entry *e = &c->entries[i];
  e->state = RC_DONE;
  e->outcome = outcome;
  e->done_seq = ++c->done_seq;
  if (why) snprintf(e->why, sizeof e->why, "%s", why);
  else e->why[0] = 0;
  c->done_pending = 1;
}

static int hist_bucket(double late_ms) {
  double us = late_ms * 1000.0;
  if (us < 0) us = 0;
  int b = (int)floor(16.0 * log2(us + 1.0));
  return b >= RC_HIST ? RC_HIST - 1 : b;
}

static void energise(rc_core *c, int i, double target_ms) {
  rc_entry *e = &c->entries[i];
  rc_station *s = &c->stations[e->station];
  rc_line_set(&s->line, 1);
  double t = rc_now_ms();
  /* A hold that raced this edge wins: the line goes straight back. */
  if (__atomic_load_n(&c->held, __ATOMIC_SEQ_CST)) rc_line_set(&s->line, s->line.safe);
  s->on = 1;
  s->t_on = t;
  s->off_at = t + s->pulse_ms;
  s->busy_until = s->off_at + s->min_gap_ms;
  s->owner = i;
  e->state = RC_PULSE;
  e->t_on = t;
  e->late_ms = t - target_ms;
  if (e->kind == RC_PART) {
    c->hist[hist_bucket(e->late_ms)]++;
    if (e->late_ms > c->late_max_ms) c->late_max_ms = e->late_ms;
  }
}

/* A part (or test) whose time has come at its station. */
static void try_fire(rc_core *c, int i, double now, double pos) {
  rc_entry *e = &c->entries[i];
  rc_station *s = &c->stations[e->station];
  char why[RC_WHY];
  if (__atomic_load_n(&c->held, __ATOMIC_SEQ_CST)) {
    finish(c, i, e->kind == RC_TEST ? RC_TEST_REFUSED : RC_ESCAPED, "outputs are held at their safe level");
    return;
  }
  if (s->on) {
    /* The ejector is out already: this part rides the pulse (a test waits for the next). */
    if (e->kind == RC_TEST) {
      e->state = RC_DEFERRED;
      e->not_before = s->busy_until;
    } else {
      e->state = RC_RIDING;
    }
    return;
  }
  if (s->busy_until > now) {
    /* Still retracting: fire as soon as it may, if the part is still in reach then. */
    e->state = RC_DEFERRED;
    e->not_before = s->busy_until;
    e->deferred_busy = 1;
    return;
  }
  if (e->kind == RC_PART && pos > e->due + c->window) {
    if (e->deferred_busy) snprintf(why, sizeof why, "the ejector was busy (min gap %g ms) until the part was out of reach", s->min_gap_ms);
    else snprintf(why, sizeof why, "the reject core woke %.2f ms after the part's time, past its window", c->tracking_encoder ? 0.0 : now - e->due);
    finish(c, i, RC_ESCAPED, why);
    return;
  }
  double target = e->kind == RC_TEST ? now : (e->state == RC_DEFERRED ? e->not_before : (c->tracking_encoder ? now : e->due));
  energise(c, i, target);
}

static void on_due(rc_core *c, int i, double now, double pos) {
  rc_entry *e = &c->entries[i];
  if (e->station == RC_UNDECIDED) {
    if (c->failsafe_station < 0) {
      finish(c, i, RC_ESCAPED, "no decision by the ejector and the fail-safe action is accept");
      return;
    }
    e->station = c->failsafe_station;
    e->automatic = 1;
  }
  if (e->station == RC_PASS) {
    finish(c, i, RC_ACCEPTED, NULL);
    return;
  }
  try_fire(c, i, now, pos);
}

static void pulse_off(rc_core *c, int si) {
  rc_station *s = &c->stations[si];
  rc_line_set(&s->line, 0);
  double t = rc_now_ms();
  /* The ejector's retract time counts from when the output really went off. */
  if (t + s->min_gap_ms > s->busy_until) s->busy_until = t + s->min_gap_ms;
  s->on = 0;
  int held = __atomic_load_n(&c->held, __ATOMIC_SEQ_CST);
  for (int i = 0; i < c->high_water; i++) {
    rc_entry *e = &c->entries[i];
    int owner = i == s->owner && e->state == RC_PULSE;
    if (!owner && !(e->state == RC_RIDING && e->station == si)) continue;
    e->t_on = s->t_on;
    e->t_off = t;
    if (owner && e->kind == RC_TEST) finish(c, i, RC_TESTED, NULL);
    else finish(c, i, held ? RC_ESCAPED : RC_REJECTED, held ? "pulse cut short by a safe request" : NULL);
  }
  s->owner = -1;
}

/* A waiting part whose time fires nothing (a pass, or undecided with the fail-safe action accept): it is only settled. */
static int settles_quietly(const rc_core *c, const rc_entry *e) {
  return e->station == RC_PASS || (e->station == RC_UNDECIDED && c->failsafe_station < 0);
}

/*
 * One pass over everything due; returns the next time (ms) an output must
 * change, or INFINITY, and in *quiet the next time a part is only settled:
 * that one needs no wake lead and no spin, a late look costs nothing.
 */
static double pump(rc_core *c, double now, double *quiet) {
  double pos = position(c, now);
  int held = __atomic_load_n(&c->held, __ATOMIC_SEQ_CST);
  for (int si = 0; si < c->nstations; si++)
    if (c->stations[si].on && (held || c->stations[si].off_at <= now)) pulse_off(c, si);
  for (int i = 0; i < c->high_water; i++) {
    rc_entry *e = &c->entries[i];
    if (e->state == RC_WAITING && e->due <= pos) on_due(c, i, now, pos);
    else if (e->state == RC_DEFERRED && e->not_before <= now) try_fire(c, i, now, position(c, rc_now_ms()));
  }
  double next = INFINITY;
  *quiet = INFINITY;
  for (int si = 0; si < c->nstations; si++)
    if (c->stations[si].on && c->stations[si].off_at < next) next = c->stations[si].off_at;
  for (int i = 0; i < c->high_water; i++) {
    rc_entry *e = &c->entries[i];
    if (e->state == RC_DEFERRED && e->not_before < next) next = e->not_before;
    if (c->tracking_encoder || e->state != RC_WAITING) continue;
    if (settles_quietly(c, e)) {
      if (e->due < *quiet) *quiet = e->due;
    } else if (e->due < next) {
      next = e->due;
    }
  }
  return next;
}

static struct timespec abs_ts(double ms) {
  struct timespec ts;
  ts.tv_sec = (time_t)(ms / 1e3);
  ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1e3) * 1e6);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  if (ts.tv_nsec < 0) ts.tv_nsec = 0;
  return ts;
}

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__) || defined(__arm__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* Every change the core must look at now goes through here (mu held); returns whether to signal it. */
static int wake(rc_core *c) {
  __atomic_add_fetch(&c->gen, 1, __ATOMIC_SEQ_CST);
  c->signals++;
  return 1;
}

/* A change due at `due` (ms, time tracking): the core is woken only if it would otherwise get there late. */
static int wake_for(rc_core *c, double due) {
  return due < c->heading ? wake(c) : 0;
}

/* After the lock is released: a core woken while the caller still held it would only block on it again. */
static void unlock_and_signal(rc_core *c, int signal) {
  pthread_mutex_unlock(&c->mu);
  if (signal) pthread_cond_signal(&c->cv);
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The kernel's wake lateness for one timed sleep: recorded, and the lead follows it. */
static void woke_late(rc_core *c, double late) {
  c->wake_hist[hist_bucket(late)]++;
  if (late > c->wake_max_ms) c->wake_max_ms = late;
  if (c->spin_max_ms <= 0) return;
  c->recent_late[c->recent_next] = late < 0 ? 0 : late;
  c->recent_next = (c->recent_next + 1) % RC_RECENT;
  double sorted[RC_RECENT];
  memcpy(sorted, c->recent_late, sizeof sorted);
  qsort(sorted, RC_RECENT, sizeof sorted[0], by_value);
  /* The second largest of the last 64 (about the p98) plus 50 us: one stall does not set it. */
  double lead = sorted[RC_RECENT - 2] + 0.05;
  c->lead_ms = lead < c->spin_max_ms ? lead : c->spin_max_ms;
}

/* Spins (mu released) until the deadline, a change to look at, or a hold. */
static void spin_until(rc_core *c, double deadline) {
  uint32_t gen = __atomic_load_n(&c->gen, __ATOMIC_SEQ_CST);
  double t0 = rc_now_ms(), t = t0;
  c->heading = deadline;
  pthread_mutex_unlock(&c->mu);
  while (t < deadline && __atomic_load_n(&c->gen, __ATOMIC_SEQ_CST) == gen && !__atomic_load_n(&c->held, __ATOMIC_SEQ_CST)) {
    cpu_relax();
    t = rc_now_ms();
  }
  pthread_mutex_lock(&c->mu);
  c->spin_total_ms += t - t0;
}

static void prefault_stack(void) {
  volatile char buf[STACK_BYTES / 2];
  for (size_t i = 0; i < sizeof buf; i += 4096) buf[i] = 0;
}

static void *run(void *arg) {
  rc_core *c = arg;
  prefault_stack();
  /* Its own stack stays resident too (the table was locked before it started). */
  pthread_attr_t self;
  void *stack;
  size_t size;
  if (pthread_getattr_np(pthread_self(), &self) == 0) {
    if (pthread_attr_getstack(&self, &stack, &size) == 0 && mlock(stack, size) != 0 && c->locked) {
      c->locked = 0;
      snprintf(c->lock_why, sizeof c->lock_why, "mlock of its stack: %s (RLIMIT_MEMLOCK; the unit sets LimitMEMLOCK)", strerror(errno));
    }
    pthread_attr_destroy(&self);
  }
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  c->minflt_start = ru.ru_minflt;
  c->majflt_start = ru.ru_majflt;
  pthread_mutex_lock(&c->mu);
  c->heading = -INFINITY;
  while (c->running) {
    double quiet;
    double next = pump(c, rc_now_ms(), &quiet);
    int notify = c->done_pending;
    c->done_pending = 0;
    if (notify && c->notify) {
      c->heading = -INFINITY;
      pthread_mutex_unlock(&c->mu);
      c->notify(c->notify_ctx);
      pthread_mutex_lock(&c->mu);
      continue;
    }
    if (!c->running) break;
    c->heading = next < quiet ? next : quiet;
    if (c->heading == INFINITY) {
      pthread_cond_wait(&c->cv, &c->mu);
    } else {
      /* An output's time gets the lead and the spin; a part only to settle is looked at when its time comes. */
      int output = next - c->lead_ms <= quiet;
      double now = rc_now_ms(), wake_at = output ? next - c->lead_ms : quiet;
      int timed_out = 1;
      if (wake_at > now) {
        struct timespec ts = abs_ts(wake_at);
        timed_out = pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT;
        if (timed_out) woke_late(c, rc_now_ms() - wake_at);
      }
      if (output && timed_out && next > rc_now_ms()) spin_until(c, next);
    }
    c->heading = -INFINITY;
    c->wakeups++;
    getrusage(RUSAGE_THREAD, &ru);
    c->minflt = ru.ru_minflt - c->minflt_start;
    c->majflt = ru.ru_majflt - c->majflt_start;
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}

int rc_init(rc_core *c, int capacity, char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  c->capacity = capacity;
  c->failsafe_station = -1;
  /* Not started yet: it looks at everything when it starts. */
  c->heading = -INFINITY;
  c->entries = calloc((size_t)capacity, sizeof(rc_entry));
  if (!c->entries) {
    snprintf(err, errlen, "out of memory for %d parts in flight", capacity);
    return -1;
  }
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  /* The main thread holds it for a few microseconds per part; if it is preempted meanwhile it inherits the core's priority. */
  pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
  pthread_mutex_init(&c->mu, &ma);
  pthread_mutexattr_destroy(&ma);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&c->cv, &ca);
  pthread_condattr_destroy(&ca);
  return 0;
}

int rc_start(rc_core *c, int priority, double spin_max_ms, char *err, size_t errlen) {
  /* Until it has seen its own wake-ups, the core leads by the whole cap. */
  c->spin_max_ms = spin_max_ms > 0 ? spin_max_ms : 0;
  c->lead_ms = c->spin_max_ms;
  for (int i = 0; i < RC_RECENT; i++) c->recent_late[i] = c->spin_max_ms;
  /* No page fault in the timing path: the part table and the stack are resident and locked. */
  size_t table = (size_t)c->capacity * sizeof(rc_entry);
  if (mlock(c->entries, table) == 0 && mlock(c, sizeof *c) == 0) c->locked = 1;
  else snprintf(c->lock_why, sizeof c->lock_why, "mlock: %s (RLIMIT_MEMLOCK; the unit sets LimitMEMLOCK)", strerror(errno));
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, STACK_BYTES);
  c->priority_wanted = priority;
  c->priority_got = 0;
  c->running = 1;
  int rc = pthread_create(&c->thread, &attr, run, c);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    c->running = 0;
    snprintf(err, errlen, "cannot start the reject core thread: %s", strerror(rc));
    return -1;
  }
  c->started = 1;
  pthread_setname_np(c->thread, "reject-core");
  if (priority > 0) {
    struct sched_param sp = {.sched_priority = priority};
    int e = pthread_setschedparam(c->thread, SCHED_FIFO, &sp);
    if (e == 0) c->priority_got = priority;
    else snprintf(c->rt_why, sizeof c->rt_why, "SCHED_FIFO %d refused: %s (needs CAP_SYS_NICE, as the systemd unit grants, root, or an rtprio limit)", priority, strerror(e));
  }
  return 0;
}

static int free_slot(rc_core *c) {
  for (int i = 0; i < c->capacity; i++)
    if (c->entries[i].state == RC_FREE) {
      if (i >= c->high_water) c->high_water = i + 1;
      return i;
    }
  return -1;
}

/* A fresh entry in a free slot (mu held), or -1 with err set when the table is full. */
static int new_entry(rc_core *c, enum rc_state state, enum rc_kind kind, int64_t id, char *err, size_t errlen) {
  int i = free_slot(c);
  if (i < 0) {
    snprintf(err, errlen, "more than %d parts and test pulses in the reject core", c->capacity);
    return -1;
  }
  rc_entry *e = &c->entries[i];
  memset(e, 0, sizeof *e);
  e->state = state;
  e->kind = kind;
  e->id = id;
  return i;
}

int rc_arm(rc_core *c, int64_t id, double at, char *err, size_t errlen) {
  pthread_mutex_lock(&c->mu);
  int i = new_entry(c, RC_WAITING, RC_PART, id, err, errlen);
  if (i < 0) {
    pthread_mutex_unlock(&c->mu);
    return -1;
  }
  rc_entry *e = &c->entries[i];
  e->at = at;
  e->station = RC_UNDECIDED;
  e->due = at + c->stations[c->failsafe_station >= 0 ? c->failsafe_station : 0].travel;
  double pos = position(c, rc_now_ms());
  if (pos > e->due + c->window) {
    /* Nothing the core does can reach it: the part came in after its ejector. */
    char why[RC_WHY];
    snprintf(why, sizeof why, "armed %.1f %s after its ejector position: the main thread was late with the part", pos - e->due, c->tracking_encoder ? "counts" : "ms");
    finish(c, i, RC_ESCAPED, why);
    unlock_and_signal(c, wake(c));
    return 0;
  }
  /* The usual case: the core is asleep until an earlier part's time and finds this one then. */
  unlock_and_signal(c, wake_for(c, c->tracking_encoder ? INFINITY : e->due));
  return 0;
}

void rc_decide(rc_core *c, int64_t id, int station) {
  int signal = 0;
  pthread_mutex_lock(&c->mu);
  for (int i = 0; i < c->high_water; i++) {
    rc_entry *e = &c->entries[i];
    if (e->state != RC_WAITING || e->kind != RC_PART || e->id != id) continue;
    /* Already acted on at its ejector: the main thread learns it from that result. */
    if (e->station != RC_UNDECIDED) break;
    if (station >= 0 && station < c->nstations) {
      double due = e->at + c->stations[station].travel;
      double now = rc_now_ms();
      if (position(c, now) > due + c->window) {
        e->station = station;
        finish(c, i, RC_ESCAPED, "the reject decision reached the reject core after the part had passed its ejector");
        signal = wake(c);
        break;
      }
      e->due = due;
      e->station = station;
      /* Another station's travel may bring the part's time before what the core is heading for. */
      signal = wake_for(c, c->tracking_encoder ? INFINITY : due);
    } else {
      /* A pass is only settled when its time comes; the core is woken only if it was heading for this part
       * with its lead and spin, which a pass does not need. */
      e->station = RC_PASS;
      if (!c->tracking_encoder && e->due <= c->heading && c->failsafe_station >= 0) signal = wake(c);
    }
    break;
  }
  unlock_and_signal(c, signal);
}

int rc_test(rc_core *c, int64_t id, int station, char *err, size_t errlen) {
  if (station < 0 || station >= c->nstations) {
    snprintf(err, errlen, "no reject station %d", station);
    return -1;
  }
  pthread_mutex_lock(&c->mu);
  int i = new_entry(c, RC_DEFERRED, RC_TEST, id, err, errlen);
  if (i < 0) {
    pthread_mutex_unlock(&c->mu);
    return -1;
  }
  rc_entry *e = &c->entries[i];
  e->station = station;
  e->not_before = rc_now_ms();
  unlock_and_signal(c, wake(c));
  return 0;
}

void rc_hold(rc_core *c) {
  __atomic_store_n(&c->held, 1, __ATOMIC_SEQ_CST);
  /* Straight from the calling thread, without the lock: a stuck core must not keep an output on. */
  for (int si = 0; si < c->nstations; si++) rc_line_set(&c->stations[si].line, c->stations[si].line.safe);
  /* Then wake the core to settle what was on; the lock is only ever held for microseconds, but a stuck holder must not stop this caller. */
  double until = rc_now_ms() + 5;
  while (rc_now_ms() < until) {
    if (pthread_mutex_trylock(&c->mu) == 0) {
      unlock_and_signal(c, wake(c));
      break;
    }
    sched_yield();
  }
}

void rc_kick(rc_core *c) {
  pthread_mutex_lock(&c->mu);
  unlock_and_signal(c, wake(c));
}

void rc_stop(rc_core *c) {
  rc_hold(c);
  if (!c->started) return;
  pthread_mutex_lock(&c->mu);
  c->running = 0;
  unlock_and_signal(c, wake(c));
  pthread_join(c->thread, NULL);
  c->started = 0;
  /* Whatever was still on when the thread ended goes safe once more, now that nothing races it. */
  for (int si = 0; si < c->nstations; si++) rc_line_set(&c->stations[si].line, c->stations[si].line.safe);
}

void rc_destroy(rc_core *c) {
  rc_stop(c);
  for (int si = 0; si < c->nstations; si++) rc_line_close(&c->stations[si].line);
  if (c->entries) {
    munlock(c->entries, (size_t)c->capacity * sizeof(rc_entry));
    free(c->entries);
  }
  c->entries = NULL;
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->cv);
}

static int by_done_seq(const void *a, const void *b) {
  uint64_t x = ((const rc_entry *)a)->done_seq, y = ((const rc_entry *)b)->done_seq;
  return x < y ? -1 : x > y;
}

int rc_take(rc_core *c, rc_entry *out, int max) {
  int n = 0;
  pthread_mutex_lock(&c->mu);
  for (int i = 0; i < c->high_water && n < max; i++) {
    if (c->entries[i].state != RC_DONE) continue;
    out[n++] = c->entries[i];
    c->entries[i].state = RC_FREE;
  }
  while (c->high_water > 0 && c->entries[c->high_water - 1].state == RC_FREE) c->high_water--;
  pthread_mutex_unlock(&c->mu);
  qsort(out, (size_t)n, sizeof *out, by_done_seq);
  return n;
}

double rc_percentile(const uint64_t *hist, double max_ms, double p) {
  uint64_t total = 0, seen = 0;
  for (int b = 0; b < RC_HIST; b++) total += hist[b];
  if (total == 0) return 0;
  for (int b = 0; b < RC_HIST; b++) {
    seen += hist[b];
    if ((double)seen >= total * p / 100.0) {
      double upper = (pow(2.0, (b + 1) / 16.0) - 1.0) / 1000.0; /* the bucket's upper edge, ms */
      return upper < max_ms ? upper : max_ms;
    }
  }
  return max_ms;
}
