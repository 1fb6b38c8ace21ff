//! Where a compositor's socket is. Wayland and libei name sockets the same way: a path, or a
//! name inside `XDG_RUNTIME_DIR`, taken from an environment variable when not given.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// `given`, else the path in the environment variable `env_var`; relative names under
/// `XDG_RUNTIME_DIR`. The error names the variable that is not set.
pub(crate) fn socket_path(
    given: Option<&Path>,
    env_var: &'static str,
) -> Result<PathBuf, &'static str> {
    let name = match given {
        Some(path) => path.to_path_buf(),
        None => PathBuf::from(std::env::var_os(env_var).ok_or(env_var)?),
    };
    in_runtime_dir(name, std::env::var_os("XDG_RUNTIME_DIR").as_deref())
}

fn in_runtime_dir(name: PathBuf, runtime_dir: Option<&OsStr>) -> Result<PathBuf, &'static str> {
    if name.is_absolute() {
        return Ok(name);
    }
    Ok(Path::new(runtime_dir.ok_or("XDG_RUNTIME_DIR")?).join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names_live_in_the_runtime_dir_and_paths_stay() {
        let run = Some(OsStr::new("/run/user/1000"));
        assert_eq!(
            in_runtime_dir("wayland-1".into(), run),
            Ok(PathBuf::from("/run/user/1000/wayland-1"))
        );
        assert_eq!(
            in_runtime_dir("/tmp/eis-0".into(), None),
            Ok(PathBuf::from("/tmp/eis-0"))
        );
        assert_eq!(in_runtime_dir("eis-0".into(), None), Err("XDG_RUNTIME_DIR"));
    }
}
