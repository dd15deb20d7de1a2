<#
.SYNOPSIS
    Walks PowerShell files' ASTs and reports what Windows PowerShell 5.1 cannot run (test helper of
    compat51.test.ts; never shipped).
.DESCRIPTION
    -PathList: files to parse (ParseFile), separated by '|'. -Text: one scratch script (ParseInput),
    to prove a rule fires.
    Prints one JSON object: { files, rules, violations: [{ file, line, rule, text, source }] }.
    A parse error is a violation too.
#>
param([string]$PathList = '', [string]$Text)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$learn = 'https://learn.microsoft.com/powershell'
$whatsNew60 = "$learn/scripting/whats-new/what-s-new-in-powershell-core-60"
$whatsNew62 = "$learn/scripting/whats-new/what-s-new-in-powershell-core-62"
$whatsNew70 = "$learn/scripting/whats-new/what-s-new-in-powershell-70"
$whatsNew73 = "$learn/scripting/whats-new/what-s-new-in-powershell-73"
$whatsNew75 = "$learn/scripting/whats-new/what-s-new-in-powershell-75"
function Cmdlet51([string]$Module, [string]$Name) { "$learn/module/$Module/$($Name.ToLowerInvariant())?view=powershell-5.1 (parameter absent there)" }

# Syntax the 5.1 parser rejects or runs differently.
$syntaxRules = [ordered]@{
    'ternary ?:'                     = $whatsNew70
    'null-coalescing ??'             = $whatsNew70
    'null-coalescing assignment ??=' = $whatsNew70
    'null-conditional ?. / ?[]'      = $whatsNew70
    'pipeline chain && / ||'         = "$learn/module/microsoft.powershell.core/about/about_pipeline_chain_operators"
    'clean {} block'                 = $whatsNew73
    'background operator &'          = $whatsNew60
    'numeric literal suffix u/y/s/n' = $whatsNew62
    '#Requires -Version above 5.1'   = "$learn/module/microsoft.powershell.core/about/about_requires"
    '#Requires -PSEdition Core'      = "$learn/module/microsoft.powershell.core/about/about_requires"
    '$IsWindows without a PSEdition check' = "$learn/module/microsoft.powershell.core/about/about_automatic_variables (IsWindows: PowerShell 6.0+; `$null on 5.1, an error under Set-StrictMode)"
    '$PSStyle without a Get-Variable guard' = "$learn/module/microsoft.powershell.core/about/about_ansi_terminals (PSStyle: 7.2+)"
}

# Cmdlet -> parameters that 5.1 does not have ('*' = the cmdlet itself is missing).
$parameterRules = [ordered]@{
    'ConvertFrom-Json' = @{ AsHashtable = $whatsNew60; Depth = $whatsNew62; NoEnumerate = $whatsNew70; DateKind = $whatsNew75 }
    'ConvertTo-Json'   = @{ EscapeHandling = $whatsNew62; AsArray = $whatsNew62 }
    'ForEach-Object'   = @{ Parallel = $whatsNew70; ThrottleLimit = $whatsNew70; TimeoutSeconds = $whatsNew70; AsJob = $whatsNew70 }
    'Get-Content'      = @{ AsByteStream = (Cmdlet51 'microsoft.powershell.management' 'Get-Content') }
    'Set-Content'      = @{ AsByteStream = (Cmdlet51 'microsoft.powershell.management' 'Set-Content') }
    'Add-Content'      = @{ AsByteStream = (Cmdlet51 'microsoft.powershell.management' 'Add-Content') }
    'Join-Path'        = @{ AdditionalChildPath = (Cmdlet51 'microsoft.powershell.management' 'Join-Path') }
    'Split-Path'       = @{ Extension = (Cmdlet51 'microsoft.powershell.management' 'Split-Path'); LeafBase = (Cmdlet51 'microsoft.powershell.management' 'Split-Path') }
    'Get-Date'         = @{ AsUTC = (Cmdlet51 'microsoft.powershell.utility' 'Get-Date'); UnixTimeSeconds = (Cmdlet51 'microsoft.powershell.utility' 'Get-Date') }
    'Start-Sleep'      = @{ Duration = $whatsNew73 }
    'Invoke-RestMethod' = @{ SkipCertificateCheck = $whatsNew60; SslProtocol = $whatsNew60; Authentication = $whatsNew60; StatusCodeVariable = $whatsNew70 }
    'Invoke-WebRequest' = @{ SkipCertificateCheck = $whatsNew60; SslProtocol = $whatsNew60; Authentication = $whatsNew60 }
    'Select-Object'    = @{ SkipIndex = (Cmdlet51 'microsoft.powershell.utility' 'Select-Object'); SkipLast = $null }
    'Where-Object'     = @{ Not = (Cmdlet51 'microsoft.powershell.core' 'Where-Object') }
    'Sort-Object'      = @{ Top = (Cmdlet51 'microsoft.powershell.utility' 'Sort-Object'); Bottom = (Cmdlet51 'microsoft.powershell.utility' 'Sort-Object'); Stable = (Cmdlet51 'microsoft.powershell.utility' 'Sort-Object') }
    'Import-Module'    = @{ UseWindowsPowerShell = $whatsNew70 }
    'Test-Json'        = @{ '*' = "$learn/module/microsoft.powershell.utility/test-json (6.1+)" }
    'Get-Error'        = @{ '*' = $whatsNew70 }
    'Remove-Alias'     = @{ '*' = "$learn/module/microsoft.powershell.utility/remove-alias (6.0+)" }
    'Join-String'      = @{ '*' = "$learn/module/microsoft.powershell.utility/join-string (6.2+)" }
    'ConvertFrom-Markdown' = @{ '*' = "$learn/module/microsoft.powershell.utility/convertfrom-markdown (6.1+)" }
    'Get-Uptime'       = @{ '*' = "$learn/module/microsoft.powershell.utility/get-uptime (6.0+)" }
}
# Select-Object -SkipLast exists in 5.1: listed with no source only to document that it was checked.
$parameterRules['Select-Object'].Remove('SkipLast')
# Any cmdlet: -Encoding values 5.1 does not know.
$encodingValues = @{ utf8NoBOM = $whatsNew60; utf8BOM = $whatsNew60; ansi = $whatsNew73 }

# .NET types and static members that .NET Framework 4.x (what 5.1 runs on) lacks.
$netTypeRules = [ordered]@{
    'System.IO.UnixFileMode'                          = '.NET 7'
    'System.Management.Automation.OrderedHashtable'   = 'PowerShell 7.3'
    'System.Runtime.InteropServices.RuntimeInformation' = '.NET Framework 4.7.1 (not on a stock Server 2016)'
    'System.Runtime.InteropServices.OSPlatform'       = '.NET Framework 4.7.1'
    'System.Text.Json.JsonDocument'                   = '.NET Core 3.0'
    'System.Text.Json.JsonSerializer'                 = '.NET Core 3.0'
    'System.Management.Automation.SemanticVersion'    = 'PowerShell 6.0'
    'semver'                                          = 'PowerShell 6.0 accelerator'
    'uint'                                            = 'PowerShell 6.2 accelerator'
    'ushort'                                          = 'PowerShell 6.2 accelerator'
    'ulong'                                           = 'PowerShell 6.2 accelerator'
    'short'                                           = 'PowerShell 6.2 accelerator'
    'sbyte'                                           = 'PowerShell 6.2 accelerator'
    'System.HashCode'                                 = '.NET Core 2.1'
    'System.Range'                                    = '.NET Core 3.0'
    'System.Index'                                    = '.NET Core 3.0'
    'System.OperatingSystem::IsWindows'               = '.NET 5'
    'System.IO.Path::Join'                            = '.NET Core 2.1'
    'System.IO.Path::GetRelativePath'                 = '.NET Core 2.0'
    'System.IO.Path::TrimEndingDirectorySeparator'    = '.NET Core 3.0'
    'System.IO.Path::EndsInDirectorySeparator'        = '.NET Core 3.0'
    'System.Convert::ToHexString'                     = '.NET 5'
    'System.Convert::FromHexString'                   = '.NET 5'
    'System.Math::Clamp'                              = '.NET Core 2.0'
    'System.Environment::ProcessId'                   = '.NET 5'
    'System.Environment::ProcessPath'                 = '.NET 6'
    'System.Text.Encoding::Latin1'                    = '.NET 5'
    'System.Random::Shared'                           = '.NET 6'
    'System.String::Create'                           = '.NET Core 2.1'
}
$netSource = 'https://learn.microsoft.com/dotnet/api (the "Applies to" table of each API: no .NET Framework 4.x)'

function Get-FullTypeName([string]$Name) {
    $n = $Name.Trim('[', ']')
    if ($n -match '^(?i)(semver|uint|ushort|ulong|short|sbyte)$') { return $n.ToLowerInvariant() }
    if ($n -notmatch '\.') {
        if ($n -eq 'Convert' -or $n -eq 'Math' -or $n -eq 'Environment' -or $n -eq 'Random' -or $n -eq 'String' -or $n -eq 'OperatingSystem' -or $n -eq 'HashCode' -or $n -eq 'Range' -or $n -eq 'Index') { return "System.$n" }
        if ($n -eq 'string') { return 'System.String' }
        return $n
    }
    if ($n -notmatch '^(?i)System\.' -and $n -match '^(?i)(IO|Text|Runtime|Management)\.') { return "System.$n" }
    return $n
}

$violations = New-Object System.Collections.Generic.List[object]
function Add-Violation($File, $Ast, [string]$Rule, [string]$Source) {
    $line = if ($null -ne $Ast) { $Ast.Extent.StartLineNumber } else { 0 }
    $snippet = if ($null -ne $Ast) { ($Ast.Extent.Text -split "`r?`n")[0] } else { '' }
    if ($snippet.Length -gt 100) { $snippet = $snippet.Substring(0, 100) }
    $violations.Add([ordered]@{ file = $File; line = $line; rule = $Rule; text = $snippet; source = $Source })
}

function Get-GuardText($Ast) {
    # The text of the statement around $Ast plus the conditions of every `if` it sits in: what
    # guards it (`$PSVersionTable.PSEdition -eq 'Desktop' -or $IsWindows`, `if ($IsLinux -or $IsMacOS)`).
    $node = $Ast
    while ($null -ne $node.Parent -and $node -isnot [System.Management.Automation.Language.StatementAst]) { $node = $node.Parent }
    $text = $node.Extent.Text
    $child = $node
    $parent = $node.Parent
    while ($null -ne $parent) {
        if ($parent -is [System.Management.Automation.Language.IfStatementAst]) {
            foreach ($clause in $parent.Clauses) { $text += "`n" + $clause.Item1.Extent.Text }
        }
        $child = $parent
        $parent = $parent.Parent
    }
    return $text
}

# Code only a Unix pwsh runs ($IsLinux / $IsMacOS are $null, so false, on 5.1).
function Test-UnixOnly($Ast) { return (Get-GuardText $Ast) -match '\$Is(Linux|MacOS)\b' }

# Parameters 5.1 has whose names are prefixes of a 7-only one (-Leaf vs -LeafBase).
$exact51 = @{ 'Split-Path' = @('Leaf') }

function Test-Ast([string]$File, $Ast) {
    $L = 'System.Management.Automation.Language'
    $all = $Ast.FindAll({ $true }, $true)
    foreach ($node in $all) {
        $type = $node.GetType().Name
        switch ($type) {
            'TernaryExpressionAst' { Add-Violation $File $node 'ternary ?:' $syntaxRules['ternary ?:'] }
            'PipelineChainAst' { Add-Violation $File $node 'pipeline chain && / ||' $syntaxRules['pipeline chain && / ||'] }
            'BinaryExpressionAst' {
                if ([string]$node.Operator -eq 'QuestionQuestion') { Add-Violation $File $node 'null-coalescing ??' $syntaxRules['null-coalescing ??'] }
            }
            'AssignmentStatementAst' {
                if ([string]$node.Operator -eq 'QuestionQuestionEquals') { Add-Violation $File $node 'null-coalescing assignment ??=' $syntaxRules['null-coalescing assignment ??='] }
            }
            { $_ -in 'MemberExpressionAst', 'InvokeMemberExpressionAst', 'IndexExpressionAst' } {
                if ($node.PSObject.Properties['NullConditional'] -and $node.NullConditional) { Add-Violation $File $node 'null-conditional ?. / ?[]' $syntaxRules['null-conditional ?. / ?[]'] }
                if ($type -ne 'IndexExpressionAst' -and $node.Static -and $node.Expression -is [System.Management.Automation.Language.TypeExpressionAst] -and $node.Member -is [System.Management.Automation.Language.StringConstantExpressionAst]) {
                    $key = (Get-FullTypeName $node.Expression.TypeName.FullName) + '::' + $node.Member.Value
                    foreach ($rule in $netTypeRules.Keys) { if ($rule -eq $key -and -not (Test-UnixOnly $node)) { Add-Violation $File $node "[$rule] ($($netTypeRules[$rule]))" $netSource } }
                }
            }
            { $_ -in 'TypeExpressionAst', 'TypeConstraintAst', 'ConvertExpressionAst' } {
                $typeName = if ($type -eq 'ConvertExpressionAst') { $node.Type.TypeName.FullName } else { $node.TypeName.FullName }
                if ($type -ne 'ConvertExpressionAst') {
                    $full = Get-FullTypeName $typeName
                    if ($netTypeRules.Contains($full) -and -not (Test-UnixOnly $node)) { Add-Violation $File $node "[$full] ($($netTypeRules[$full]))" $netSource }
                }
            }
            'ScriptBlockAst' {
                if ($node.PSObject.Properties['CleanBlock'] -and $null -ne $node.CleanBlock) { Add-Violation $File $node.CleanBlock 'clean {} block' $syntaxRules['clean {} block'] }
                $requirements = $node.ScriptRequirements
                if ($null -ne $requirements) {
                    if ($null -ne $requirements.RequiredPSVersion -and $requirements.RequiredPSVersion -gt [version]'5.1') { Add-Violation $File $node '#Requires -Version above 5.1' $syntaxRules['#Requires -Version above 5.1'] }
                    if (@($requirements.RequiredPSEditions) -contains 'Core') { Add-Violation $File $node '#Requires -PSEdition Core' $syntaxRules['#Requires -PSEdition Core'] }
                }
            }
            'PipelineAst' {
                if ($node.PSObject.Properties['Background'] -and $node.Background) { Add-Violation $File $node 'background operator &' $syntaxRules['background operator &'] }
            }
            'ConstantExpressionAst' {
                if ($node.Value -is [ValueType] -and $node.Extent.Text -match '^(0x[0-9a-f]+|[0-9.]+(e[+-]?[0-9]+)?)(u|us|ul|uy|y|s|n)(kb|mb|gb|tb|pb)?$') { Add-Violation $File $node 'numeric literal suffix u/y/s/n' $syntaxRules['numeric literal suffix u/y/s/n'] }
            }
            'VariableExpressionAst' {
                $name = $node.VariablePath.UserPath
                if ($name -eq 'IsWindows' -and (Get-GuardText $node) -notmatch 'PSEdition') { Add-Violation $File $node '$IsWindows without a PSEdition check' $syntaxRules['$IsWindows without a PSEdition check'] }
                if ($name -eq 'PSStyle' -and (Get-GuardText $node) -notmatch 'Get-Variable') { Add-Violation $File $node '$PSStyle without a Get-Variable guard' $syntaxRules['$PSStyle without a Get-Variable guard'] }
            }
            'CommandAst' {
                $commandName = $node.GetCommandName()
                if ($null -ne $commandName) {
                    $bare = ($commandName -split '\\')[-1]
                    foreach ($cmdlet in $parameterRules.Keys) {
                        if ($cmdlet -ne $bare) { continue }
                        $rules = $parameterRules[$cmdlet]
                        if ($rules.ContainsKey('*')) { Add-Violation $File $node "$cmdlet (cmdlet)" $rules['*']; continue }
                        foreach ($element in $node.CommandElements) {
                            if ($element -isnot [System.Management.Automation.Language.CommandParameterAst]) { continue }
                            if ($exact51.ContainsKey($cmdlet) -and $exact51[$cmdlet] -contains $element.ParameterName) { continue }
                            foreach ($parameter in $rules.Keys) {
                                # PowerShell accepts any unambiguous prefix: -AsHash is -AsHashtable.
                                if ($parameter.StartsWith($element.ParameterName, [StringComparison]::OrdinalIgnoreCase) -and $element.ParameterName.Length -ge 3) {
                                    Add-Violation $File $element "$cmdlet -$parameter" $rules[$parameter]
                                }
                            }
                        }
                    }
                }
                for ($i = 0; $i -lt $node.CommandElements.Count; $i++) {
                    $element = $node.CommandElements[$i]
                    if ($element -is [System.Management.Automation.Language.CommandParameterAst] -and $element.ParameterName -eq 'Encoding') {
                        $value = if ($null -ne $element.Argument) { $element.Argument } elseif ($i + 1 -lt $node.CommandElements.Count) { $node.CommandElements[$i + 1] } else { $null }
                        if ($value -is [System.Management.Automation.Language.StringConstantExpressionAst] -and $encodingValues.ContainsKey($value.Value)) {
                            Add-Violation $File $value "-Encoding $($value.Value)" $encodingValues[$value.Value]
                        }
                    }
                }
            }
        }
    }
}

$files = 0
foreach ($file in @($PathList -split '\|' | Where-Object { $_ })) {
    $tokens = $null; $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($file, [ref]$tokens, [ref]$errors)
    foreach ($e in @($errors)) { Add-Violation $file $null "parse error: $($e.Message)" '' }
    Test-Ast $file $ast
    $files++
}
if ($PSBoundParameters.ContainsKey('Text')) {
    $tokens = $null; $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseInput($Text, [ref]$tokens, [ref]$errors)
    foreach ($e in @($errors)) { Add-Violation '<scratch>' $null "parse error: $($e.Message)" '' }
    Test-Ast '<scratch>' $ast
}

$ruleCount = $syntaxRules.Count + $encodingValues.Count + $netTypeRules.Count
foreach ($cmdlet in $parameterRules.Keys) { $ruleCount += $parameterRules[$cmdlet].Count }
[Console]::Out.WriteLine((ConvertTo-Json -Compress -Depth 5 -InputObject ([ordered]@{ files = $files; rules = $ruleCount; violations = [object[]]$violations.ToArray() })))
