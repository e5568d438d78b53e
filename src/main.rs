fn main() -> std::process::ExitCode {
    onboard::app::main()
}
