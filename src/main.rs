/// Counts what script threads allocate, for the limits on values that keep growing.
#[global_allocator]
static ALLOC: onboard::budget::Counting = onboard::budget::Counting;

fn main() -> std::process::ExitCode {
    onboard::app::main()
}
