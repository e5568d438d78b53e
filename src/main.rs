/// Counts what script threads allocate, for the limits on values that keep growing.
#[global_allocator]
static ALLOC: onboard::util::budget::Counting = onboard::util::budget::Counting;

fn main() -> std::process::ExitCode {
    onboard::util::alloc::leave_heap_at_exit();
    onboard::cli::main()
}
