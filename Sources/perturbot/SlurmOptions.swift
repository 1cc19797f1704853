import ArgumentParser
import Pipeline

/// The flags of `perturbot run --executor slurm`: where and with what the jobs run.
struct SlurmOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Slurm partition (sbatch --partition).")
    var partition: String?

    @Option(parsing: .unconditional, help: "Time limit per task job (sbatch --time, e.g. 30 or 01:00:00).")
    var time: String?

    @Option(parsing: .unconditional, help: "Memory per task job (sbatch --mem, e.g. 4G).")
    var mem: String?

    @Option(parsing: .unconditional, help: "CPUs per task job (sbatch --cpus-per-task).")
    var cpus: Int?

    @Option(parsing: .unconditional, help: "Account to charge (sbatch --account).")
    var account: String?

    @Option(parsing: .unconditional, help: "Jobs of one stage running at once (the array's %N throttle).")
    var maxJobs: Int?

    @Option(parsing: .unconditional, help: "Seconds between squeue polls.")
    var poll: Double = SlurmResources().poll

    @Option(parsing: .unconditional, help: "Tasks each array element runs in one process (a screen's short tasks: 10-50).")
    var tasksPerJob: Int = 1

    @Option(parsing: .unconditional, help: "The cluster's MaxArraySize (default: read from 'scontrol show config').")
    var maxArraySize: Int?

    func validate() throws {
        if let cpus, cpus < 1 { throw ValidationError("--cpus: must be a whole number ≥ 1, got \(cpus)") }
        if let maxJobs, maxJobs < 1 { throw ValidationError("--max-jobs: must be a whole number ≥ 1, got \(maxJobs)") }
        guard poll > 0, poll.isFinite else { throw ValidationError("--poll: must be a positive number of seconds, got \(poll)") }
        guard tasksPerJob >= 1 else { throw ValidationError("--tasks-per-job: must be a whole number ≥ 1, got \(tasksPerJob)") }
        if let maxArraySize, maxArraySize < 2 { throw ValidationError("--max-array-size: must be a whole number ≥ 2, got \(maxArraySize)") }
    }

    var resources: SlurmResources {
        var resources = SlurmResources()
        resources.partition = partition
        resources.time = time
        resources.mem = mem
        resources.cpus = cpus
        resources.account = account
        resources.maxJobs = maxJobs
        resources.poll = poll
        resources.tasksPerJob = tasksPerJob
        resources.maxArraySize = maxArraySize
        return resources
    }
}
