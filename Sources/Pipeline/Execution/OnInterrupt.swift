import Foundation

/// What Ctrl-C (SIGINT) or SIGTERM (Slurm's scancel, a shell's kill) does while a run is going:
/// `action` — which says on stderr what was done and what rerunning does, and lets go of what
/// this process holds — then exit status 130, as a shell reports an interrupted command.
public final class OnInterrupt: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    public init(_ action: @escaping @Sendable () -> Void) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                action()
                // _exit, not exit: atexit handlers (OpenBLAS's shutdown among them) would free
                // what the workers are still using.
                _exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The default handling again (the run is over).
    public func disarm() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    /// Cancels the submitted Slurm jobs.
    public static func cancellingSlurmJobs(_ jobs: [String]) -> OnInterrupt {
        OnInterrupt {
            _ = try? ExternalCommand.run("scancel", jobs)
            FileHandle.standardError.write(Data("\nperturbot: interrupted: cancelled Slurm jobs \(jobs.joined(separator: ", ")); the tasks they finished are cached, and rerunning the same command submits the rest\n".utf8))
        }
    }

    /// Stops a run of `runner`'s tasks (`run`, or a cluster job's `run-task`): the locks this
    /// process holds are released and its temporary files in the cache removed (tasks in flight
    /// are lost; every finished task is cached), and stderr says how far it got.
    public static func stoppingRun(_ runner: Runner) -> OnInterrupt {
        OnInterrupt {
            let tally = runner.tally.snapshot
            TaskLock.releaseAllHeld()
            runner.experiment.cache.removeTemporaries(ofProcess: getpid())
            FileHandle.standardError.write(Data(("\nperturbot: interrupted: \(tally.done) of \(tally.total) task(s) done (\(tally.ran) computed in this run, cached); "
                + "rerunning the same command resumes from the cache\n").utf8))
        }
    }
}
