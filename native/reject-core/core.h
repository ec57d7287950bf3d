/*
 * The reject core: a native thread that owns the reject outputs and fires
 * every pulse at its time. It runs outside V8 (no isolate, no collector, no
 * event loop), at SCHED_FIFO where the process may, on memory locked before
 * it starts, and sleeps on absolute CLOCK_MONOTONIC deadlines: its wake-up
 * latency is the kernel's (what cyclictest measures), not the runtime's.
 *
 * The main thread arms each part at its trigger (which is also when the
 * fail-safe action is scheduled) and decides it later; whatever the main
 * thread is doing by then, the core acts at the ejector on what it knows.
 */
#ifndef REJECT_CORE_H
#define REJECT_CORE_H

#include <pthread.h>
#include <stdint.h>

#define RC_MAX_STATIONS 16
#define RC_WHY 160

enum rc_line_kind { RC_LINE_SIMULATED, RC_LINE_SYSFS, RC_LINE_CDEV };

typedef struct {
  enum rc_line_kind kind;
  int fd;               /* sysfs value file, or the cdev line request */
  int32_t *shm;         /* simulated: the shared edge log (SimulatedGpio's layout) */
  int index;            /* simulated: line index in that log */
  int active_low;       /* simulated: for the electrical level it logs */
  int safe;             /* logical level that de-energises */
  uint64_t errors;      /* writes the device refused */
} rc_line;

typedef struct {
  rc_line line;
  double pulse_ms, min_gap_ms, travel;
  int on;
  double t_on, off_at, busy_until;
  int owner;            /* entry index of the pulse's owner while on */
} rc_station;

enum rc_state { RC_FREE, RC_WAITING, RC_DEFERRED, RC_PULSE, RC_RIDING, RC_DONE };
enum rc_kind { RC_PART, RC_TEST };
enum rc_outcome { RC_REJECTED, RC_ACCEPTED, RC_ESCAPED, RC_TESTED, RC_TEST_REFUSED };

#define RC_UNDECIDED (-2)
#define RC_PASS (-1)

typedef struct {
  enum rc_state state;
  enum rc_kind kind;
  int64_t id;
  double at, due;       /* trigger and action position, in the tracking unit */
  double not_before;    /* deferred: fire once the ejector has retracted (ms) */
  int station, automatic, deferred_busy;
  /* result, once DONE */
  enum rc_outcome outcome;
  double t_on, t_off, late_ms;
  uint64_t done_seq;
  char why[RC_WHY];
} rc_entry;

#define RC_RECENT 64
#define RC_HIST 320 /* lateness histograms: bucket i holds [2^(i/16) - 1, 2^((i+1)/16) - 1) microseconds, up to 1 s */

typedef struct rc_core {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  int running, started, held;
  int tracking_encoder;
  const int32_t *encoder;
  double window;
  int failsafe_station, nstations;
  rc_station stations[RC_MAX_STATIONS];
  rc_entry *entries;
  int capacity, high_water;
  uint64_t done_seq;
  int done_pending;
  /* what the thread got: policy and why not real-time */
  int priority_wanted, priority_got;
  char rt_why[RC_WHY];
  int locked;           /* its stack and tables are locked in memory */
  char lock_why[RC_WHY];
  /* timing evidence: pulse lateness (own pulses) and the thread's wake-up lateness for its deadlines */
  uint64_t hist[RC_HIST];
  double late_max_ms;
  uint64_t wake_hist[RC_HIST];
  double wake_max_ms;
  /* Wake lead: the core sleeps to a deadline minus the lead and spins the rest, so an idle
   * CPU's slow wake-up (a halted vCPU, a deep idle state) lands before the deadline, not on it.
   * The lead follows the kernel's recent wake lateness (about its p98), capped at spin_max_ms. */
  double spin_max_ms, lead_ms, spin_total_ms;
  double recent_late[RC_RECENT];
  int recent_next;
  uint32_t gen;         /* bumped with every signal: a spinning core stops to look */
  /* The deadline the core is heading for while it waits or spins without the lock: a change
   * due later than it needs no wake-up (the core looks at every entry when it gets there).
   * INFINITY while it waits for a change; -INFINITY while it is about to look anyway. */
  double heading;
  uint64_t signals;     /* wake-ups the calling threads asked for */
  long minflt_start, majflt_start, minflt, majflt;
  uint64_t wakeups;
  /* told when results are ready (called with mu NOT held) */
  void (*notify)(void *ctx);
  void *notify_ctx;
} rc_core;

double rc_now_ms(void);
int rc_init(rc_core *c, int capacity, char *err, size_t errlen);
int rc_start(rc_core *c, int priority, double spin_max_ms, char *err, size_t errlen);
/* Each returns 0, or -1 with err set. */
int rc_arm(rc_core *c, int64_t id, double at, char *err, size_t errlen);
void rc_decide(rc_core *c, int64_t id, int station);
int rc_test(rc_core *c, int64_t id, int station, char *err, size_t errlen);
/* Every output to its safe level now, and no pulse after: callable from any thread, never blocks on the core. */
void rc_hold(rc_core *c);
/* Wakes the core to look at the encoder count again. */
void rc_kick(rc_core *c);
void rc_stop(rc_core *c);
void rc_destroy(rc_core *c);
/* Takes finished entries in completion order; returns how many were copied. */
int rc_take(rc_core *c, rc_entry *out, int max);
double rc_percentile(const uint64_t *hist, double max_ms, double p);

/* lines.c */
int rc_line_open_sysfs(rc_line *l, const char *path, int safe, char *err, size_t errlen);
void rc_line_cdev(rc_line *l, int fd, int safe);
void rc_line_simulated(rc_line *l, int32_t *shm, int index, int active_low, int safe);
void rc_line_set(rc_line *l, int active);
void rc_line_close(rc_line *l);

#endif
